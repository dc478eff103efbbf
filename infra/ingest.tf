# The ingest function, its role, log group and asynchronous-invocation settings,
# and the on-failure queue that both functions share.

# Only this account can attach the roles to a function (iam:PassRole does not
# cross accounts), so the trust policy needs no source condition.
data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------------------
# On-failure destination: asynchronous invocations that failed after Lambda's
# retries (or grew too old) land here with the error and the original event.

resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  message_retention_seconds = var.failure_queue_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

data "aws_iam_policy_document" "failures_queue" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.failures.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "failures" {
  queue_url = aws_sqs_queue.failures.id
  policy    = data.aws_iam_policy_document.failures_queue.json
}

# ---------------------------------------------------------------------------
# Ingest

resource "aws_cloudwatch_log_group" "ingest" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; the logs hold report metadata, not secrets, so no customer-managed key.
  name              = "/aws/lambda/${var.name}-ingest"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_iam_role" "ingest" {
  name               = "${var.name}-ingest"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "ReadRawMail"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.incoming_prefix}*"]
  }

  # A report that is already stored is read back to tell an exact redelivery
  # from a conflicting one (same sender and report-id, another content).
  statement {
    sid       = "ReadStoredReports"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${local.reports_prefix}*"]
  }

  # Conditional puts (If-None-Match: *) need nothing beyond s3:PutObject.
  statement {
    sid     = "WriteReportsAndRejections"
    actions = ["s3:PutObject"]
    resources = [
      "${local.bucket_arn}/${local.reports_prefix}*",
      "${local.bucket_arn}/${local.rejected_prefix}*",
    ]
  }

  # Alerts on arrival (alerts.tf): after each stored report, ingest lists that
  # domain's reports of that day, the digests of earlier days and the stored
  # alerts, reads them and writes the alerts it opens or refreshes.
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
    sid     = "ReadDigestsAndAlerts"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arn}/${local.digests_prefix}*",
      "${local.bucket_arn}/${local.alerts_prefix}*",
    ]
  }

  statement {
    sid       = "WriteAlerts"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/${local.alerts_prefix}*"]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ingest.arn}:*"]
  }

  # Lambda sends a failed asynchronous invocation to the on-failure destination
  # with the function's own role.
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

resource "aws_iam_role_policy" "ingest" {
  name   = "ingest"
  role   = aws_iam_role.ingest.id
  policy = data.aws_iam_policy_document.ingest.json
}

resource "aws_lambda_function" "ingest" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to an on-failure destination (aws_lambda_function_event_invoke_config.ingest, SQS), which keeps the error as well as the event; a DLQ would be a second, poorer copy.
  #checkov:skip=CKV_AWS_117:The function talks only to S3 and SNS through their public endpoints, limited by its IAM policy; a VPC would add NAT or endpoint costs and no further limit.
  #checkov:skip=CKV_AWS_173:The environment holds a bucket name, prefixes, domain names, alert thresholds and the alert topic's ARN, no secrets; Lambda encrypts it at rest with an AWS-managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the packaging script does not produce; the zip's hash is pinned by source_code_hash.
  function_name                  = "${var.name}-ingest"
  description                    = "stsguard: SMTP TLS report mail from SES -> normalized reports in S3"
  role                           = aws_iam_role.ingest.arn
  filename                       = var.ingest_package
  source_code_hash               = filebase64sha256(var.ingest_package)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = [var.architecture]
  memory_size                    = var.ingest_memory_mb
  timeout                        = var.ingest_timeout_seconds
  reserved_concurrent_executions = var.ingest_reserved_concurrency

  environment {
    variables = merge(
      {
        STSGUARD_BUCKET          = aws_s3_bucket.data.id
        STSGUARD_INCOMING_PREFIX = var.incoming_prefix
        STSGUARD_STORE_PREFIX    = var.store_prefix
        STSGUARD_REQUIRE_DKIM    = tostring(var.require_dkim)
      },
      length(var.domains) > 0 ? { STSGUARD_DOMAINS = join(",", var.domains) } : {},
      var.failure_jump == null ? {} : { STSGUARD_FAILURE_JUMP = tostring(var.failure_jump) },
      local.alert_environment,
    )
  }

  # JSON log format: Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON for the runtime.
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.ingest.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.ingest]
}

resource "aws_lambda_function_event_invoke_config" "ingest" {
  function_name                = aws_lambda_function.ingest.function_name
  maximum_retry_attempts       = var.async_max_retries
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}
