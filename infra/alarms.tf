# CloudWatch alarms: function errors, failed asynchronous invocations and 5xx
# answers of the HTTPS receiver. They notify alarm_sns_topic_arn when it is set.

locals {
  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "ingest_errors" {
  alarm_name          = "${var.name}-ingest-errors"
  alarm_description   = "The ingest function failed (storage error, raw mail missing, crash). Lambda retries; after the retries the event lands in ${aws_sqs_queue.failures.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.ingest.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "digest_errors" {
  count               = local.enable_digest ? 1 : 0
  alarm_name          = "${var.name}-digest-errors"
  alarm_description   = "The digest function failed; no digest was sent for that run. Lambda retries; after the retries the event lands in ${aws_sqs_queue.failures.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.digest[0].function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  alarm_name          = "${var.name}-failed-invocations"
  alarm_description   = "An invocation failed for good (after Lambda's retries, or undeliverable by the schedule) and waits in ${aws_sqs_queue.failures.name}. The message holds the error and the original event; invoke the function again with that event to replay it."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# The receiver is invoked synchronously: its failures are not in the failure
# queue but in the function URL's answers. A 5xx is a storage failure (503,
# which the sender retries) or an error or timeout of the function itself.
resource "aws_cloudwatch_metric_alarm" "receive_5xx" {
  count               = local.receive_enabled ? 1 : 0
  alarm_name          = "${var.name}-receive-5xx"
  alarm_description   = "The HTTPS receiver answered a POST with a 5xx: S3 refused or failed a write (503), or the function failed or timed out. The sender keeps the report and may retry; see the log group /aws/lambda/${var.name}-receive."
  namespace           = "AWS/Lambda"
  metric_name         = "Url5xxCount"
  dimensions          = { FunctionName = aws_lambda_function.receive[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}
