output "dashboard_arn" {
  value = aws_cloudwatch_dashboard.this.dashboard_arn
}

output "alarm_arns" {
  value = {
    error_rate       = aws_cloudwatch_metric_alarm.error_rate.arn
    latency_p99      = aws_cloudwatch_metric_alarm.latency_p99.arn
    throttles        = aws_cloudwatch_metric_alarm.throttles.arn
    cold_start_rate  = aws_cloudwatch_metric_alarm.cold_start_rate.arn
    front_door_5xx   = aws_cloudwatch_metric_alarm.front_door_5xx.arn
    duration_timeout = aws_cloudwatch_metric_alarm.duration_timeout.arn
    timeouts         = aws_cloudwatch_metric_alarm.timeouts.arn
  }
}
