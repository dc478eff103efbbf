# Inputs of the mta-sts sub-module. infra/README.md lists them.

variable "domain" {
  description = "The policy domain (the domain whose mail MTA-STS protects), lower case, without a trailing dot, e.g. \"example.com\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a lower-case domain name without a trailing dot."
  }
}

variable "zone_id" {
  description = "ID of the Route 53 public hosted zone that holds domain (the _mta-sts, _smtp._tls, mta-sts and certificate validation records go there)."
  type        = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "mode" {
  description = "Policy mode: \"testing\" (report failures, deliver anyway), \"enforce\" (refuse delivery over unauthenticated TLS) or \"none\" (withdraw the policy)."
  type        = string
  default     = "testing"

  validation {
    condition     = contains(["testing", "enforce", "none"], var.mode)
    error_message = "mode must be \"testing\", \"enforce\" or \"none\" (RFC 8461 section 3.2)."
  }
}

variable "max_age" {
  description = "Policy max_age in seconds: how long senders cache the policy. From 86400 (1 day) to 31557600 (about 1 year); weeks are usual."
  type        = number
  default     = 604800

  validation {
    condition     = var.max_age >= 86400 && var.max_age <= 31557600 && floor(var.max_age) == var.max_age
    error_message = "max_age must be a whole number of seconds from 86400 to 31557600."
  }
}

variable "mx" {
  description = "MX host patterns of the policy: host names or \"*.\" plus a domain (one label wildcard), lower case, without trailing dots. Every MX host of domain must match one. Required for testing and enforce."
  type        = list(string)
  default     = []

  validation {
    # At least two labels after an optional "*.": *.com is refused.
    condition = alltrue([
      for m in var.mx : can(regex("^(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$", m))
    ])
    error_message = "mx patterns must be lower-case host names or \"*.\" plus a domain of at least two labels (not *.com), without trailing dots, ports or URLs."
  }

  validation {
    condition     = length(distinct(var.mx)) == length(var.mx)
    error_message = "mx patterns must not repeat."
  }
}

variable "tlsrpt_rua" {
  description = "Where reports go (rua of the _smtp._tls record): mailto: or https: URIs, e.g. [\"mailto:reports@tlsrpt.example.com\"], the address that the stsguard receipt rule accepts."
  type        = list(string)

  validation {
    condition = length(var.tlsrpt_rua) > 0 && alltrue([
      for u in var.tlsrpt_rua : can(regex("^(mailto:[^@,;!\\s]+@[a-z0-9.-]+\\.[a-z]{2,}|https://[^,;!\\s]+)$", u))
    ])
    error_message = "tlsrpt_rua must be one or more mailto:ADDRESS or https://URL values without ',', ';', '!' or spaces (RFC 8460 section 3)."
  }
}

variable "create_tlsrpt_record" {
  description = "Publish the _smtp._tls TXT record. False when another configuration manages it."
  type        = bool
  default     = true
}

variable "sts_record_ttl" {
  description = "TTL of the _mta-sts TXT record in seconds. 300-3600 keeps policy updates quick without exposing senders to every DNS hiccup."
  type        = number
  default     = 300

  validation {
    condition     = var.sts_record_ttl >= 60 && var.sts_record_ttl <= 86400
    error_message = "sts_record_ttl must be from 60 to 86400."
  }
}

variable "tlsrpt_record_ttl" {
  description = "TTL of the _smtp._tls TXT record in seconds (RFC 8460 section 7 advises a large TTL)."
  type        = number
  default     = 3600

  validation {
    condition     = var.tlsrpt_record_ttl >= 60 && var.tlsrpt_record_ttl <= 86400
    error_message = "tlsrpt_record_ttl must be from 60 to 86400."
  }
}

variable "bucket_name" {
  description = "Name of the S3 bucket that holds the policy file. Null: \"mta-sts.<domain>\"."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.bucket_name, "-")))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "price_class" {
  description = "CloudFront price class of the policy host."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
