# Outputs of the stsguard module. infra/README.md lists them.

output "bucket_name" {
  description = "Name of the bucket that holds raw mail, reports, rejections, digests and Athena results."
  value       = aws_s3_bucket.data.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.data.arn
}

output "incoming_prefix" {
  description = "Key prefix of the raw mail written by SES."
  value       = var.incoming_prefix
}

output "reports_location" {
  description = "S3 URI of the normalized reports (the Glue table's location)."
  value       = local.reports_location
}

output "rejected_location" {
  description = "S3 URI of the rejection records."
  value       = "s3://${aws_s3_bucket.data.id}/${local.rejected_prefix}"
}

output "digests_location" {
  description = "S3 URI of the stored digests."
  value       = "s3://${aws_s3_bucket.data.id}/${local.digests_prefix}"
}

output "recipients" {
  description = "The addresses or domains the SES receipt rule accepts."
  value       = var.recipients
}

output "inbound_mx" {
  description = "The MX target for the report recipients' domain: SES's inbound endpoint in this region."
  value       = "inbound-smtp.${local.region}.amazonaws.com"
}

output "receipt_rule_set_name" {
  description = "Name of the receipt rule set that holds the rule."
  value       = var.rule_set_name
}

output "receipt_rule_name" {
  description = "Name of the SES receipt rule."
  value       = aws_ses_receipt_rule.reports.name
}

output "ingest_function_name" {
  description = "Name of the ingest Lambda function."
  value       = aws_lambda_function.ingest.function_name
}

output "ingest_function_arn" {
  description = "ARN of the ingest Lambda function."
  value       = aws_lambda_function.ingest.arn
}

output "ingest_role_arn" {
  description = "ARN of the ingest function's execution role."
  value       = aws_iam_role.ingest.arn
}

output "digest_function_name" {
  description = "Name of the digest Lambda function (null when enable_digest is false)."
  value       = local.enable_digest ? aws_lambda_function.digest[0].function_name : null
}

output "digest_function_arn" {
  description = "ARN of the digest Lambda function (null when enable_digest is false)."
  value       = local.enable_digest ? aws_lambda_function.digest[0].arn : null
}

output "digest_role_arn" {
  description = "ARN of the digest function's execution role (null when enable_digest is false)."
  value       = local.enable_digest ? aws_iam_role.digest[0].arn : null
}

output "digest_schedule_name" {
  description = "Name of the EventBridge Scheduler schedule of the daily digest (null when enable_digest is false)."
  value       = local.enable_digest ? aws_scheduler_schedule.digest[0].name : null
}

output "receive_function_name" {
  description = "Name of the HTTPS receiver Lambda function (null when https_receiver is false)."
  value       = local.receive_enabled ? aws_lambda_function.receive[0].function_name : null
}

output "receive_role_arn" {
  description = "ARN of the HTTPS receiver's execution role (null when https_receiver is false)."
  value       = local.receive_enabled ? aws_iam_role.receive[0].arn : null
}

output "receive_url" {
  description = "The HTTPS receiver's Lambda function URL, https://<id>.lambda-url.<region>.on.aws/ (null when https_receiver is false)."
  value       = local.receive_enabled ? aws_lambda_function_url.receive[0].function_url : null
}

# The token is published in public DNS, so it is no secret from anyone who reads
# the record; but receive_token is a sensitive variable, and Terraform refuses an
# output derived from it without sensitive = true where this is the root module
# (callers see it marked sensitive either way; `terraform output -raw` prints it).
output "tlsrpt_https_rua" {
  description = "The https: destination to publish in _smtp._tls records: receive_url followed by \"<receive_token>/v1\", or by \"v1\" without a token (null when https_receiver is false). It holds the token, which anyone who reads the record sees; it is marked sensitive only because receive_token is: read it with `terraform output -raw`."
  value       = local.receive_enabled ? "${aws_lambda_function_url.receive[0].function_url}${var.receive_token == "" ? "" : "${var.receive_token}/"}v1" : null
  sensitive   = true
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives failed asynchronous invocations of ingest and digest."
  value       = aws_sqs_queue.failures.id
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = aws_sqs_queue.failures.arn
}

output "glue_database_name" {
  description = "Glue database of the reports table."
  value       = aws_glue_catalog_database.this.name
}

output "glue_table_name" {
  description = "Glue table over the normalized reports; query it in Athena as <database>.<table>."
  value       = aws_glue_catalog_table.reports.name
}

output "athena_workgroup_name" {
  description = "Athena workgroup whose results go to athena-results/ in the bucket (null when create_athena_workgroup is false)."
  value       = var.create_athena_workgroup ? aws_athena_workgroup.this[0].name : null
}

output "alert_topic_arn" {
  description = "ARN of the SNS topic the functions publish alert messages to (null when alerts is false). Subscribe to it for other destinations: HTTPS endpoints, SQS queues, functions that forward to a chat tool."
  value       = local.alerts_enabled ? aws_sns_topic.alerts[0].arn : null
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value = concat(
    [aws_cloudwatch_metric_alarm.ingest_errors.alarm_name, aws_cloudwatch_metric_alarm.failed_invocations.alarm_name],
    aws_cloudwatch_metric_alarm.digest_errors[*].alarm_name,
    aws_cloudwatch_metric_alarm.receive_5xx[*].alarm_name,
  )
}
