variable "function_name" {
  description = "The Lambda function's name."
  type        = string
  default     = "orders-fn"
}

variable "service" {
  description = "The service dimension's value."
  type        = string
  default     = "orders"
}

variable "region" {
  description = "The Region of the function and its metrics."
  type        = string
  default     = "eu-west-1"
}

variable "timeout_seconds" {
  description = "The function's timeout in seconds, which the duration alarm compares against."
  type        = number
  default     = 30
}

variable "error_rate_threshold" {
  description = "The error_rate alarm's threshold."
  type        = number
  default     = 1
}

variable "latency_p99_threshold" {
  description = "The latency_p99 alarm's threshold."
  type        = number
  default     = 1000
}

variable "throttles_threshold" {
  description = "The throttles alarm's threshold."
  type        = number
  default     = 0
}

variable "cold_start_rate_threshold" {
  description = "The cold_start_rate alarm's threshold."
  type        = number
  default     = 10
}

variable "front_door_5xx_threshold" {
  description = "The front_door_5xx alarm's threshold."
  type        = number
  default     = 1
}

variable "duration_timeout_threshold" {
  description = "The duration_timeout alarm's threshold."
  type        = number
  default     = 80
}

variable "timeouts_threshold" {
  description = "The timeouts alarm's threshold."
  type        = number
  default     = 0
}

variable "dashboard_name" {
  description = "The dashboard's name; empty for the function's name."
  type        = string
  default     = ""
}

variable "alarm_actions" {
  description = "SNS topic ARNs to notify when an alarm changes state."
  type        = list(string)
  default     = []
}
