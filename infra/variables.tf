# Inputs of the stsguard module. infra/README.md lists them with their defaults.

# ---------------------------------------------------------------------------
# Naming and storage

variable "name" {
  description = "Name prefix of every resource this module creates (functions, roles, queue, alarms, rule, schedule)."
  type        = string
  default     = "stsguard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 characters of lower-case letters, digits and '-', starting with a letter."
  }
}

variable "bucket_name" {
  description = "Name of the S3 bucket for raw mail, normalized reports, rejections and digests. Null: \"<name>-<account id>-<region>\"."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 characters of a-z, 0-9, '.' and '-')."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with everything in it (all reports). Keep false in production."
  type        = bool
  default     = false
}

variable "incoming_prefix" {
  description = "Key prefix where the SES S3 action writes raw mail (STSGUARD_INCOMING_PREFIX)."
  type        = string
  default     = "incoming/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.incoming_prefix))
    error_message = "incoming_prefix must be a non-empty key prefix ending in '/', without a leading '/' (for example \"incoming/\")."
  }
}

variable "store_prefix" {
  description = "Key prefix put before reports/, rejected/, digests/, alerts/ and raw/https/ (STSGUARD_STORE_PREFIX). Empty by default."
  type        = string
  default     = ""

  validation {
    condition     = var.store_prefix == "" || can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.store_prefix))
    error_message = "store_prefix must be empty or a key prefix ending in '/', without a leading '/'."
  }
}

variable "raw_mail_expiration_days" {
  description = "Days after which raw mail under incoming_prefix expires, and so do the bodies the HTTPS receiver keeps under raw/https/. Normalized reports and rejection records never expire."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_mail_expiration_days >= 1 && var.raw_mail_expiration_days <= 3650 && floor(var.raw_mail_expiration_days) == var.raw_mail_expiration_days
    error_message = "raw_mail_expiration_days must be a whole number from 1 to 3650."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions are removed (the bucket is versioned)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------
# Receiving (SES)

variable "recipients" {
  description = "Addresses or domains the SES receipt rule accepts, e.g. [\"reports@tlsrpt.example.com\"]. These are the rua mailto: targets of your _smtp._tls records."
  type        = list(string)

  validation {
    condition     = length(var.recipients) > 0 && alltrue([for r in var.recipients : can(regex("^([A-Za-z0-9._%+-]+@)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", r))])
    error_message = "recipients must be a non-empty list of addresses (reports@tlsrpt.example.com) or lower-case domains (tlsrpt.example.com)."
  }
}

variable "ingest_trigger" {
  description = "How ingest is started after the SES S3 action stored a mail: \"lambda_action\" (a Lambda action in the receipt rule, invocation type Event) or \"s3_notification\" (an S3 ObjectCreated notification on incoming_prefix)."
  type        = string
  default     = "lambda_action"

  validation {
    condition     = contains(["lambda_action", "s3_notification"], var.ingest_trigger)
    error_message = "ingest_trigger must be \"lambda_action\" or \"s3_notification\"."
  }
}

variable "rule_set_name" {
  description = "Name of the SES receipt rule set that holds the stsguard rule."
  type        = string
  default     = "stsguard"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", var.rule_set_name))
    error_message = "rule_set_name must be 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit."
  }
}

variable "create_rule_set" {
  description = "Create the receipt rule set rule_set_name. False: add the rule to an existing rule set of that name (for example your account's active one)."
  type        = bool
  default     = true
}

variable "activate_rule_set" {
  description = "Make rule_set_name the active receipt rule set of the region. A region has one active rule set: this replaces any other. Set false when you add the rule to an already active set."
  type        = bool
  default     = true
}

variable "require_dkim" {
  description = "Reject mail without a passing SES DKIM verdict as 'unauthenticated' (STSGUARD_REQUIRE_DKIM). False: store such reports with a warning."
  type        = bool
  default     = false
}

variable "domains" {
  description = "Policy domains whose reports you expect (STSGUARD_DOMAINS). Ingest and the HTTPS receiver reject reports for other domains as 'unexpected-domain'; the digest flags a listed domain without reports. Empty: accept any domain."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for d in var.domains : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", d))])
    error_message = "domains must be lower-case domain names without a trailing dot."
  }
}

# ---------------------------------------------------------------------------
# Functions

variable "ingest_package" {
  description = "Path of the ingest deployment zip (a `bootstrap` binary at its root), as written by scripts/package.sh: dist/stsguard-ingest.zip."
  type        = string

  validation {
    condition     = endswith(var.ingest_package, ".zip")
    error_message = "ingest_package must be the path of a .zip file."
  }
}

variable "digest_package" {
  description = "Path of the digest deployment zip (dist/stsguard-digest.zip). Required when enable_digest is true."
  type        = string
  default     = null

  validation {
    condition     = var.digest_package == null || endswith(coalesce(var.digest_package, "x.zip"), ".zip")
    error_message = "digest_package must be the path of a .zip file."
  }
}

variable "architecture" {
  description = "Instruction set of every function: \"arm64\" (cheaper per GB-second) or \"x86_64\". It must match the binaries in the zips."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "ingest_memory_mb" {
  description = "Memory of the ingest function in MB. 128 MB suits reports of normal size; raise it if you accept very large mail."
  type        = number
  default     = 128

  validation {
    condition     = var.ingest_memory_mb >= 128 && var.ingest_memory_mb <= 10240
    error_message = "ingest_memory_mb must be from 128 to 10240."
  }
}

variable "ingest_timeout_seconds" {
  description = "Timeout of one ingest invocation in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.ingest_timeout_seconds >= 1 && var.ingest_timeout_seconds <= 900
    error_message = "ingest_timeout_seconds must be from 1 to 900."
  }
}

variable "ingest_reserved_concurrency" {
  description = "Reserved concurrent executions of ingest (a ceiling on parallel ingests during a mail burst). Null: no reservation, the account's unreserved pool is used."
  type        = number
  default     = null

  validation {
    condition     = var.ingest_reserved_concurrency == null || try(var.ingest_reserved_concurrency >= 1, false)
    error_message = "ingest_reserved_concurrency must be null or at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of the functions: \"PassThrough\" (trace only when the caller sampled) or \"Active\" (adds X-Ray write permissions)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "async_max_retries" {
  description = "Retries Lambda makes of a failed asynchronous invocation (SES Lambda action, S3 notification, schedule) before it goes to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_max_retries)
    error_message = "async_max_retries must be 0, 1 or 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "Oldest age of an asynchronous event that Lambda still tries; older events go to the failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "async_max_event_age_seconds must be from 60 to 21600."
  }
}

variable "failure_queue_retention_seconds" {
  description = "How long the on-failure SQS queue keeps a failed invocation record, in seconds (at most 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be from 60 to 1209600."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic that the CloudWatch alarms notify (alarm and OK). Null: the alarms are created without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", coalesce(var.alarm_sns_topic_arn, "-")))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN."
  }
}

# ---------------------------------------------------------------------------
# Digest

variable "enable_digest" {
  description = "Deploy the digest function and its daily schedule."
  type        = bool
  default     = true
}

variable "digest_memory_mb" {
  description = "Memory of the digest function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.digest_memory_mb >= 128 && var.digest_memory_mb <= 10240
    error_message = "digest_memory_mb must be from 128 to 10240."
  }
}

variable "digest_timeout_seconds" {
  description = "Timeout of one digest invocation in seconds (it reads one day of reports)."
  type        = number
  default     = 300

  validation {
    condition     = var.digest_timeout_seconds >= 1 && var.digest_timeout_seconds <= 900
    error_message = "digest_timeout_seconds must be from 1 to 900."
  }
}

variable "digest_from" {
  description = "Sender address of the digest (STSGUARD_DIGEST_FROM). Its domain or the address must be a verified SES identity in this region. Required when enable_digest is true."
  type        = string
  default     = null

  validation {
    condition     = var.digest_from == null || can(regex("^[^@\\s<>]+@[a-z0-9.-]+\\.[a-z]{2,}$", coalesce(var.digest_from, "-")))
    error_message = "digest_from must be a plain address such as stsguard@example.com (lower-case domain)."
  }
}

variable "digest_to" {
  description = "Recipients of the digest (STSGUARD_DIGEST_TO). Required when enable_digest is true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.digest_to : can(regex("^[^@\\s<>,]+@[^@\\s<>,]+\\.[A-Za-z]{2,}$", a))])
    error_message = "digest_to must be plain addresses such as ops@example.com."
  }
}

variable "digest_send_identities" {
  description = "SES identities (domains or addresses) the digest may send through; the IAM policy allows ses:SendRawEmail on these only, with From = digest_from. Empty: the domain of digest_from. In the SES sandbox, add the verified recipient identities too."
  type        = list(string)
  default     = []
}

variable "digest_read_concurrency" {
  description = "Reports the digest reads from S3 at once (STSGUARD_READ_CONCURRENCY, 1 to 1024). Null: the function's default (32). Raise it with digest_memory_mb for days of hundreds of thousands of reports."
  type        = number
  default     = null

  validation {
    condition     = var.digest_read_concurrency == null || try(var.digest_read_concurrency >= 1 && var.digest_read_concurrency <= 1024 && floor(var.digest_read_concurrency) == var.digest_read_concurrency, false)
    error_message = "digest_read_concurrency must be null or a whole number from 1 to 1024."
  }
}

variable "failure_jump" {
  description = "Failure-rate jump, in percentage points, from which the digest calls a domain out and the failure-jump alert fires (STSGUARD_FAILURE_JUMP, passed to the digest and ingest functions). Null: not set, the functions' default applies."
  type        = number
  default     = null

  validation {
    condition     = var.failure_jump == null || try(var.failure_jump > 0 && var.failure_jump <= 100, false)
    error_message = "failure_jump must be null or a number of percentage points in (0, 100]."
  }
}

variable "digest_time" {
  description = "Time of day (HH:MM, 24 h) at which the daily digest runs, in digest_time_zone. It digests the previous UTC day."
  type        = string
  default     = "06:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.digest_time))
    error_message = "digest_time must be HH:MM, 00:00 to 23:59."
  }
}

variable "digest_time_zone" {
  description = "IANA time zone of digest_time, e.g. \"UTC\" or \"Europe/Berlin\"."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.digest_time_zone))
    error_message = "digest_time_zone must be an IANA time zone name such as UTC or Europe/Berlin."
  }
}

# ---------------------------------------------------------------------------
# Alerts (alerts.tf)

variable "alerts" {
  description = "Create the SNS topic <name>-alerts to which the ingest and digest functions publish alert messages (STSGUARD_ALERT_TOPIC_ARN), with sns:Publish for their roles. False: no topic; the functions still evaluate alerts and store them under alerts/v1/, and `stsguard alerts` lists them."
  type        = bool
  default     = true
}

variable "alert_emails" {
  description = "Addresses subscribed to the alert topic (protocol email). SNS mails each a confirmation request; nothing is delivered to an address until its recipient confirms. Ignored when alerts is false."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alert_emails : can(regex("^[^@\\s<>,]+@[^@\\s<>,]+\\.[A-Za-z]{2,}$", a))])
    error_message = "alert_emails must be plain addresses such as ops@example.com."
  }
}

variable "alert_testing_share_percent" {
  description = "Share of a day's sessions, in percent, above which a result type that stops mail raises a stopping-failure alert when the policy does not enforce, as in MTA-STS testing mode (STSGUARD_ALERT_TESTING_SHARE). Under an enforcing policy (MTA-STS enforce, or DANE) a single failure raises it."
  type        = number
  default     = 5

  validation {
    condition     = var.alert_testing_share_percent >= 0 && var.alert_testing_share_percent <= 100
    error_message = "alert_testing_share_percent must be from 0 to 100."
  }
}

variable "alert_remind_hours" {
  description = "Hours after which an alert that is still open is announced again (STSGUARD_ALERT_REMIND_HOURS)."
  type        = number
  default     = 24

  validation {
    condition     = var.alert_remind_hours >= 1 && floor(var.alert_remind_hours) == var.alert_remind_hours
    error_message = "alert_remind_hours must be a whole number of at least 1."
  }
}

variable "alert_max_messages_per_run" {
  description = "Alert messages one function run publishes at most (STSGUARD_ALERT_MAX_MESSAGES); the alerts beyond are named in one summary message."
  type        = number
  default     = 20

  validation {
    condition     = var.alert_max_messages_per_run >= 1 && floor(var.alert_max_messages_per_run) == var.alert_max_messages_per_run
    error_message = "alert_max_messages_per_run must be a whole number of at least 1."
  }
}

variable "alert_silence_days" {
  description = "Days without reports after which a regular reporter of a domain, or an expected domain (domains), counts as silent (STSGUARD_ALERT_SILENCE_DAYS)."
  type        = number
  default     = 2

  validation {
    condition     = var.alert_silence_days >= 1 && var.alert_silence_days <= 14 && floor(var.alert_silence_days) == var.alert_silence_days
    error_message = "alert_silence_days must be a whole number from 1 to 14."
  }
}

# ---------------------------------------------------------------------------
# HTTPS receiver (receive.tf)

variable "https_receiver" {
  description = "Deploy the HTTPS report receiver: a function behind a public Lambda function URL that takes reports POSTed to an rua=https: destination (RFC 8460 section 5.4). False by default: an endpoint open to the internet is opt-in."
  type        = bool
  default     = false
}

variable "receive_package" {
  description = "Path of the receiver deployment zip (dist/stsguard-receive.zip). Required when https_receiver is true."
  type        = string
  default     = null

  validation {
    condition     = var.receive_package == null || endswith(coalesce(var.receive_package, "x.zip"), ".zip")
    error_message = "receive_package must be the path of a .zip file."
  }
}

variable "receive_token" {
  description = "Secret first path segment that the receiver requires (STSGUARD_RECEIVE_TOKEN): only POSTs to <function URL><token>/... are taken, others get 404. It appears in the published rua URI, so it keeps out only those who do not read your _smtp._tls record. Empty: any path is taken."
  type        = string
  default     = ""
  nullable    = false
  sensitive   = true

  validation {
    condition     = var.receive_token == "" || can(regex("^[A-Za-z0-9_-]{16,128}$", var.receive_token))
    error_message = "receive_token must be empty or 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'."
  }
}

variable "receive_memory_mb" {
  description = "Memory of the receiver function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.receive_memory_mb >= 128 && var.receive_memory_mb <= 10240
    error_message = "receive_memory_mb must be from 128 to 10240."
  }
}

variable "receive_timeout_seconds" {
  description = "Timeout of one receiver invocation in seconds. The sender waits for the answer meanwhile; a timeout is answered with a 5xx and the sender retries."
  type        = number
  default     = 10

  validation {
    condition     = var.receive_timeout_seconds >= 1 && var.receive_timeout_seconds <= 900
    error_message = "receive_timeout_seconds must be from 1 to 900."
  }
}

variable "receive_reserved_concurrency" {
  description = "Reserved concurrent executions of the receiver: the most POSTs it serves at once, which bounds its cost and what anyone who posts to the public URL can make it do. Requests beyond it get 429 from Lambda, which senders retry like a 503. Null: no reservation (for accounts whose concurrency quota cannot spare one; Lambda keeps 100 executions unreserved)."
  type        = number
  default     = 5

  validation {
    condition     = var.receive_reserved_concurrency == null || try(var.receive_reserved_concurrency >= 1 && floor(var.receive_reserved_concurrency) == var.receive_reserved_concurrency, false)
    error_message = "receive_reserved_concurrency must be null or a whole number of at least 1."
  }
}

variable "receive_max_body_bytes" {
  description = "Largest POST body the receiver accepts (STSGUARD_MAX_BODY_BYTES); a larger one is answered 413 and recorded under rejected/. Null: the function's default, 10 MiB. Lambda's 6 MB invocation payload limit applies first, to the body base64-encoded when it is binary (gzip): about 4.5 MB of gzip."
  type        = number
  default     = null

  validation {
    condition     = var.receive_max_body_bytes == null || try(var.receive_max_body_bytes >= 1 && floor(var.receive_max_body_bytes) == var.receive_max_body_bytes, false)
    error_message = "receive_max_body_bytes must be null or a whole number of at least 1."
  }
}

variable "receive_max_report_bytes" {
  description = "Largest decompressed report the receiver reads (STSGUARD_MAX_REPORT_BYTES). Null: the function's default, 20 MiB."
  type        = number
  default     = null

  validation {
    condition     = var.receive_max_report_bytes == null || try(var.receive_max_report_bytes >= 1 && floor(var.receive_max_report_bytes) == var.receive_max_report_bytes, false)
    error_message = "receive_max_report_bytes must be null or a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------
# Athena

variable "glue_database_name" {
  description = "Name of the Glue database that holds the reports table."
  type        = string
  default     = "stsguard"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))
    error_message = "glue_database_name must be lower-case letters, digits and '_'."
  }
}

variable "glue_table_name" {
  description = "Name of the Glue table over reports/v1/."
  type        = string
  default     = "reports"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_table_name))
    error_message = "glue_table_name must be lower-case letters, digits and '_'."
  }
}

variable "projection_start_day" {
  description = "First day (YYYY-MM-DD) of the projected day partitions; Athena considers days from here to today."
  type        = string
  default     = "2024-01-01"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.projection_start_day))
    error_message = "projection_start_day must be YYYY-MM-DD."
  }
}

variable "create_athena_workgroup" {
  description = "Create an Athena workgroup whose query results go to athena-results/ in the bucket (SSE-S3, expiring after athena_results_expiration_days)."
  type        = bool
  default     = true
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results under athena-results/ expire."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_expiration_days >= 1 && floor(var.athena_results_expiration_days) == var.athena_results_expiration_days
    error_message = "athena_results_expiration_days must be a whole number of at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
