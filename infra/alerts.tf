# Alerts: the ingest function (after each stored report) and the digest
# function (daily) evaluate alert rules, store each alert under
# <store_prefix>alerts/v1/ and publish one message per opened, reminded or
# resolved alert to this SNS topic. With alerts = false there is no topic and
# no STSGUARD_ALERT_TOPIC_ARN: the functions still evaluate and store alerts,
# and `stsguard alerts` lists them, but nothing is published.

locals {
  alerts_enabled = var.alerts

  # The roles that may publish: the two functions that evaluate alerts.
  alert_publishers = concat([aws_iam_role.ingest.arn], aws_iam_role.digest[*].arn)

  # Environment of both functions. The thresholds are passed either way.
  alert_environment = merge(
    local.alerts_enabled ? { STSGUARD_ALERT_TOPIC_ARN = aws_sns_topic.alerts[0].arn } : {},
    {
      STSGUARD_ALERT_TESTING_SHARE = tostring(var.alert_testing_share_percent)
      STSGUARD_ALERT_REMIND_HOURS  = tostring(var.alert_remind_hours)
      STSGUARD_ALERT_MAX_MESSAGES  = tostring(var.alert_max_messages_per_run)
      STSGUARD_ALERT_SILENCE_DAYS  = tostring(var.alert_silence_days)
    },
  )
}

# Encrypted with the AWS-managed key of SNS: its key policy lets principals of
# this account use it through SNS, so the publishing roles need no KMS
# permission. AWS services (CloudWatch alarms, EventBridge) cannot publish to a
# topic under this key.
resource "aws_sns_topic" "alerts" {
  count             = local.alerts_enabled ? 1 : 0
  name              = "${var.name}-alerts"
  display_name      = var.name
  kms_master_key_id = "alias/aws/sns"
  tags              = local.tags
}

data "aws_iam_policy_document" "alert_topic" {
  count = local.alerts_enabled ? 1 : 0

  # What the default topic policy gives the owning account, without
  # sns:Publish: the account's IAM policies decide who manages the topic and
  # who subscribes to it.
  statement {
    sid = "AccountManagesAndSubscribes"
    actions = [
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:AddPermission",
      "sns:RemovePermission",
      "sns:DeleteTopic",
      "sns:Subscribe",
      "sns:ListSubscriptionsByTopic",
    ]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "FunctionsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "AWS"
      identifiers = local.alert_publishers
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

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

resource "aws_sns_topic_policy" "alerts" {
  count  = local.alerts_enabled ? 1 : 0
  arn    = aws_sns_topic.alerts[0].arn
  policy = data.aws_iam_policy_document.alert_topic[0].json
}

# SNS mails each address a confirmation request; nothing is delivered there
# until the recipient follows its link. Terraform cannot delete a subscription
# that was never confirmed: it drops it from the state, and SNS deletes it once
# the confirmation has expired.
resource "aws_sns_topic_subscription" "alert_email" {
  for_each  = { for address in var.alert_emails : address => address if local.alerts_enabled }
  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = each.value
}

check "alert_emails_need_alerts" {
  assert {
    condition     = local.alerts_enabled || length(var.alert_emails) == 0
    error_message = "alert_emails is set but alerts is false: there is no topic, so no subscription is created."
  }
}
