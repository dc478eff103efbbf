# The HTTPS report receiver (RFC 8460 sections 3 and 5.4, rua=https:): a
# Lambda function behind a function URL. Senders POST a report; the function
# keeps the body under <store_prefix>raw/https/, then stores the normalized
# report under reports/ (or a rejection record under rejected/) and answers
# 201 stored, 200 duplicate, 4xx unusable body (still recorded), 405 other
# methods, 404 wrong secret path, 503 storage failure (the sender retries).
#
# Everything here exists only with https_receiver = true: an endpoint open to
# the internet is opt-in.

locals {
  receive_enabled = var.https_receiver
}

resource "aws_cloudwatch_log_group" "receive" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; the logs hold request metadata (client address, User-Agent, outcome, without the secret path segment), not secrets, so no customer-managed key.
  count             = local.receive_enabled ? 1 : 0
  name              = "/aws/lambda/${var.name}-receive"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_iam_role" "receive" {
  count              = local.receive_enabled ? 1 : 0
  name               = "${var.name}-receive"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "receive" {
  count = local.receive_enabled ? 1 : 0

  # A report that is already stored is read back to tell an exact redelivery
  # (200) from a conflicting one (same sender and report-id, another content).
  statement {
    sid       = "ReadStoredReports"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${local.reports_prefix}*"]
  }

  # The raw body first, then the report or the rejection record. Conditional
  # puts (If-None-Match: *) need nothing beyond s3:PutObject.
  statement {
    sid     = "WriteBodiesReportsAndRejections"
    actions = ["s3:PutObject"]
    resources = [
      "${local.bucket_arn}/${local.raw_https_prefix}*",
      "${local.bucket_arn}/${local.reports_prefix}*",
      "${local.bucket_arn}/${local.rejected_prefix}*",
    ]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.receive[0].arn}:*"]
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

resource "aws_iam_role_policy" "receive" {
  count  = local.receive_enabled ? 1 : 0
  name   = "receive"
  role   = aws_iam_role.receive[0].id
  policy = data.aws_iam_policy_document.receive[0].json
}

resource "aws_lambda_function" "receive" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by its function URL: a failure is answered to the sender (503), which retries; there is no asynchronous event for a dead-letter queue to keep.
  #checkov:skip=CKV_AWS_117:The function talks only to S3 through its public endpoint, limited by its IAM policy; a VPC would add NAT or endpoint costs and no further limit.
  #checkov:skip=CKV_AWS_173:The environment holds a bucket name, prefixes, domain names, size caps and the optional secret path segment, which is published in the _smtp._tls TXT record anyway; Lambda encrypts it at rest with an AWS-managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the packaging script does not produce; the zip's hash is pinned by source_code_hash.
  count            = local.receive_enabled ? 1 : 0
  function_name    = "${var.name}-receive"
  description      = "stsguard: SMTP TLS reports POSTed over HTTPS (function URL) -> normalized reports in S3"
  role             = aws_iam_role.receive[0].arn
  filename         = var.receive_package
  source_code_hash = var.receive_package == null ? null : filebase64sha256(var.receive_package)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  memory_size      = var.receive_memory_mb
  timeout          = var.receive_timeout_seconds
  # The most requests served at once: a ceiling on cost and on what anyone
  # posting to the public URL can make the function do. Requests beyond it get
  # 429 from Lambda, a failed delivery that the sender retries (RFC 8460
  # section 5.5), as it retries a 503.
  reserved_concurrent_executions = var.receive_reserved_concurrency

  environment {
    variables = merge(
      {
        STSGUARD_BUCKET       = aws_s3_bucket.data.id
        STSGUARD_STORE_PREFIX = var.store_prefix
      },
      length(var.domains) > 0 ? { STSGUARD_DOMAINS = join(",", var.domains) } : {},
      var.receive_token == "" ? {} : { STSGUARD_RECEIVE_TOKEN = var.receive_token },
      var.receive_max_body_bytes == null ? {} : { STSGUARD_MAX_BODY_BYTES = tostring(var.receive_max_body_bytes) },
      var.receive_max_report_bytes == null ? {} : { STSGUARD_MAX_REPORT_BYTES = tostring(var.receive_max_report_bytes) },
    )
  }

  # JSON log format: Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON for the runtime.
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.receive[0].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.receive_package != null
      error_message = "https_receiver is true but receive_package is not set (dist/stsguard-receive.zip from scripts/package.sh)."
    }
  }

  depends_on = [aws_iam_role_policy.receive]
}

# The public endpoint, https://<id>.lambda-url.<region>.on.aws/. Report
# senders cannot sign requests with SigV4, so the URL takes unauthenticated
# requests; the optional secret path segment (receive_token) and the reserved
# concurrency are what limit them. With authorization_type NONE the AWS
# provider (6.28 and later, see versions.tf) adds the two statements of the
# function's resource-based policy that a public function URL needs:
# lambda:InvokeFunctionUrl for any principal with lambda:FunctionUrlAuthType =
# NONE, and lambda:InvokeFunction for any principal only with
# lambda:InvokedViaFunctionUrl = true, so the function cannot be invoked
# directly through the Lambda API. No CORS: senders are servers, not browsers.
resource "aws_lambda_function_url" "receive" {
  #checkov:skip=CKV_AWS_258:Report senders make a plain HTTPS POST (RFC 8460 section 5.4) without AWS credentials and cannot sign SigV4 requests, so the URL must take unauthenticated requests; the optional secret path segment, reserved concurrency and the 5xx alarm bound the exposure.
  count              = local.receive_enabled ? 1 : 0
  function_name      = aws_lambda_function.receive[0].function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}
