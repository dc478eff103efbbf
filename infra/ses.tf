# SES inbound: one receipt rule that stores the report mail under
# incoming_prefix and then starts ingest (Lambda action), unless ingest is
# started by the S3 notification (ingest_trigger = "s3_notification").

resource "aws_ses_receipt_rule_set" "this" {
  count         = var.create_rule_set ? 1 : 0
  rule_set_name = var.rule_set_name
}

resource "aws_ses_receipt_rule" "reports" {
  name          = local.rule_name
  rule_set_name = var.rule_set_name
  recipients    = var.recipients
  enabled       = true
  scan_enabled  = true
  tls_policy    = "Require"

  s3_action {
    position          = 1
    bucket_name       = aws_s3_bucket.data.id
    object_key_prefix = var.incoming_prefix
  }

  dynamic "lambda_action" {
    for_each = var.ingest_trigger == "lambda_action" ? [1] : []
    content {
      position        = 2
      function_arn    = aws_lambda_function.ingest.arn
      invocation_type = "Event"
    }
  }

  # SES checks at creation that it may write to the bucket and invoke the function.
  depends_on = [
    aws_ses_receipt_rule_set.this,
    aws_s3_bucket_policy.data,
    aws_lambda_permission.ses,
  ]
}

resource "aws_ses_active_receipt_rule_set" "this" {
  count         = var.activate_rule_set ? 1 : 0
  rule_set_name = var.rule_set_name

  depends_on = [aws_ses_receipt_rule.reports]
}

resource "aws_lambda_permission" "ses" {
  count          = var.ingest_trigger == "lambda_action" ? 1 : 0
  statement_id   = "AllowSesReceiptRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.ingest.function_name
  principal      = "ses.amazonaws.com"
  source_account = local.account_id
  source_arn     = local.rule_arn
}

# The other trigger: S3 tells ingest about every new object under incoming_prefix.
resource "aws_lambda_permission" "s3" {
  count          = var.ingest_trigger == "s3_notification" ? 1 : 0
  statement_id   = "AllowS3IncomingNotification"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.ingest.function_name
  principal      = "s3.amazonaws.com"
  source_account = local.account_id
  source_arn     = aws_s3_bucket.data.arn
}

resource "aws_s3_bucket_notification" "incoming" {
  count  = var.ingest_trigger == "s3_notification" ? 1 : 0
  bucket = aws_s3_bucket.data.id

  lambda_function {
    lambda_function_arn = aws_lambda_function.ingest.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.incoming_prefix
  }

  depends_on = [aws_lambda_permission.s3]
}
