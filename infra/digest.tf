# The digest function and the EventBridge Scheduler schedule that runs it daily.

locals {
  digest_identities = length(var.digest_send_identities) > 0 ? var.digest_send_identities : (
    var.digest_from == null ? [] : [element(split("@", var.digest_from), 1)]
  )
  digest_identity_arns = [
    for i in local.digest_identities : "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${i}"
  ]
  digest_hour   = tonumber(split(":", var.digest_time)[0])
  digest_minute = tonumber(split(":", var.digest_time)[1])
}

resource "aws_cloudwatch_log_group" "digest" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; the logs hold digest metadata, not secrets, so no customer-managed key.
  count             = local.enable_digest ? 1 : 0
  name              = "/aws/lambda/${var.name}-digest"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_iam_role" "digest" {
  count              = local.enable_digest ? 1 : 0
  name               = "${var.name}-digest"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "digest" {
  count = local.enable_digest ? 1 : 0

  # The stored alerts are listed, read and written by the daily alert
  # evaluation (alerts.tf), which also resolves what no longer holds.
  statement {
    sid       = "ListReportsDigestsAndAlerts"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.reports_prefix}*", "${local.digests_prefix}*", "${local.alerts_prefix}*"]
    }
  }

  statement {
    sid     = "ReadReportsDigestsAndAlerts"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arn}/${local.reports_prefix}*",
      "${local.bucket_arn}/${local.digests_prefix}*",
      "${local.bucket_arn}/${local.alerts_prefix}*",
    ]
  }

  statement {
    sid     = "WriteDigestsAndAlerts"
    actions = ["s3:PutObject"]
    resources = [
      "${local.bucket_arn}/${local.digests_prefix}*",
      "${local.bucket_arn}/${local.alerts_prefix}*",
    ]
  }

  statement {
    sid       = "SendDigest"
    actions   = ["ses:SendRawEmail"]
    resources = local.digest_identity_arns

    condition {
      test     = "StringEquals"
      variable = "ses:FromAddress"
      values   = [coalesce(var.digest_from, "-")]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.digest[0].arn}:*"]
  }

  statement {
    sid       = "OnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  dynamic "statement" {
    for_each = local.alerts_enabled ? [1] : []
    content {
      sid       = "PublishAlerts"
      actions   = ["sns:Publish"]
      resources = aws_sns_topic.alerts[*].arn
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "XRay"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "digest" {
  count  = local.enable_digest ? 1 : 0
  name   = "digest"
  role   = aws_iam_role.digest[0].id
  policy = data.aws_iam_policy_document.digest[0].json
}

resource "aws_lambda_function" "digest" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to an on-failure destination (aws_lambda_function_event_invoke_config.digest, SQS), which keeps the error as well as the event.
  #checkov:skip=CKV_AWS_117:The function talks only to S3, SES and SNS through their public endpoints, limited by its IAM policy; a VPC would add NAT or endpoint costs and no further limit.
  #checkov:skip=CKV_AWS_173:The environment holds a bucket name, domain names, mail addresses, alert thresholds and the alert topic's ARN, no secrets; Lambda encrypts it at rest with an AWS-managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the packaging script does not produce; the zip's hash is pinned by source_code_hash.
  #checkov:skip=CKV_AWS_115:One invocation a day; a reservation would only take capacity from the account's unreserved pool.
  count            = local.enable_digest ? 1 : 0
  function_name    = "${var.name}-digest"
  description      = "stsguard: daily digest of the normalized reports, sent through SES"
  role             = aws_iam_role.digest[0].arn
  filename         = var.digest_package
  source_code_hash = var.digest_package == null ? null : filebase64sha256(var.digest_package)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  memory_size      = var.digest_memory_mb
  timeout          = var.digest_timeout_seconds

  environment {
    variables = merge(
      {
        STSGUARD_BUCKET       = aws_s3_bucket.data.id
        STSGUARD_STORE_PREFIX = var.store_prefix
        STSGUARD_DIGEST_FROM  = var.digest_from
        STSGUARD_DIGEST_TO    = join(",", var.digest_to)
      },
      length(var.domains) > 0 ? { STSGUARD_DOMAINS = join(",", var.domains) } : {},
      var.failure_jump == null ? {} : { STSGUARD_FAILURE_JUMP = tostring(var.failure_jump) },
      var.digest_read_concurrency == null ? {} : { STSGUARD_READ_CONCURRENCY = tostring(var.digest_read_concurrency) },
      local.alert_environment,
    )
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.digest[0].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.digest_package != null
      error_message = "enable_digest is true but digest_package is not set (dist/stsguard-digest.zip from scripts/package.sh)."
    }
    precondition {
      condition     = var.digest_from != null && length(var.digest_to) > 0
      error_message = "enable_digest is true: set digest_from and at least one digest_to address."
    }
  }

  depends_on = [aws_iam_role_policy.digest]
}

resource "aws_lambda_function_event_invoke_config" "digest" {
  count                        = local.enable_digest ? 1 : 0
  function_name                = aws_lambda_function.digest[0].function_name
  maximum_retry_attempts       = var.async_max_retries
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

# ---------------------------------------------------------------------------
# Schedule

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count              = local.enable_digest ? 1 : 0
  name               = "${var.name}-digest-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  count = local.enable_digest ? 1 : 0

  statement {
    sid       = "InvokeDigest"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.digest[0].arn]
  }

  # The schedule's dead-letter queue, for invocations Scheduler could not deliver.
  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count  = local.enable_digest ? 1 : 0
  name   = "invoke-digest"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

resource "aws_scheduler_schedule" "digest" {
  #checkov:skip=CKV_AWS_297:The schedule's input is a fixed template with no data worth a customer-managed key; Scheduler encrypts it with an AWS-owned key.
  count                        = local.enable_digest ? 1 : 0
  name                         = "${var.name}-daily-digest"
  description                  = "Runs the stsguard digest for the previous UTC day"
  schedule_expression          = "cron(${local.digest_minute} ${local.digest_hour} * * ? *)"
  schedule_expression_timezone = var.digest_time_zone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.digest[0].arn
    role_arn = aws_iam_role.scheduler[0].arn
    # Scheduler replaces the context attribute with the scheduled time; the
    # function digests the UTC day before it.
    input = jsonencode({ time = "<aws.scheduler.scheduled-time>" })

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
