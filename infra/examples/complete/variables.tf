variable "region" {
  description = "Region of SES receiving, the bucket and the functions. It must be one where SES receives mail."
  type        = string
  default     = "eu-west-1"
}

variable "domain" {
  description = "The policy domain whose MTA-STS and TLSRPT this example publishes."
  type        = string
  default     = "example.com"
}

variable "zone_id" {
  description = "Route 53 hosted zone ID of domain."
  type        = string
  default     = "Z0123456789ABCDEFGHIJ"
}

variable "mx" {
  description = "MX host patterns of the domain's MTA-STS policy."
  type        = list(string)
  default     = ["mx1.example.com", "mx2.example.com"]
}

variable "digest_to" {
  description = "Who receives the daily digest."
  type        = list(string)
  default     = ["postmaster@example.com"]
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic for the alarms (optional)."
  type        = string
  default     = null
}

variable "alert_emails" {
  description = "Addresses subscribed to the alert topic; each must confirm the subscription from the mail SNS sends."
  type        = list(string)
  default     = []
}

variable "enable_digest" {
  description = "Deploy the digest function; needs dist/stsguard-digest.zip from scripts/package.sh."
  type        = bool
  default     = true
}

variable "https_receiver" {
  description = "Deploy the HTTPS report receiver (a public Lambda function URL); needs dist/stsguard-receive.zip from scripts/package.sh."
  type        = bool
  default     = false
}

variable "receive_token" {
  description = "Secret first path segment of the HTTPS receiver (16 or more of A-Z, a-z, 0-9, '_', '-'), or empty for none."
  type        = string
  default     = ""
  sensitive   = true
}
