resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.dashboard_name != "" ? var.dashboard_name : var.function_name
  dashboard_body = templatefile("${path.module}/dashboard.json.tftpl", {
    alarm_arn_cold_start_rate  = aws_cloudwatch_metric_alarm.cold_start_rate.arn
    alarm_arn_duration_timeout = aws_cloudwatch_metric_alarm.duration_timeout.arn
    alarm_arn_error_rate       = aws_cloudwatch_metric_alarm.error_rate.arn
    alarm_arn_front_door_5xx   = aws_cloudwatch_metric_alarm.front_door_5xx.arn
    alarm_arn_latency_p99      = aws_cloudwatch_metric_alarm.latency_p99.arn
    alarm_arn_throttles        = aws_cloudwatch_metric_alarm.throttles.arn
    alarm_arn_timeouts         = aws_cloudwatch_metric_alarm.timeouts.arn
    function_name              = var.function_name
    load_balancer              = var.load_balancer
    region                     = var.region
    service                    = var.service
    target_group               = var.target_group
    threshold_cold_start_rate  = var.cold_start_rate_threshold
    threshold_duration_timeout = var.duration_timeout_threshold
    threshold_error_rate       = var.error_rate_threshold
    threshold_front_door_5xx   = var.front_door_5xx_threshold
    threshold_latency_p99      = var.latency_p99_threshold
    threshold_throttles        = var.throttles_threshold
    timeout_seconds            = var.timeout_seconds
  })
}

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${var.function_name}-error-rate"
  alarm_description   = "Server errors (5xx answers, app exceptions, unparseable events) above ${var.error_rate_threshold}% of requests, from the adapter's ServerErrors and Requests metrics. Lambda's own Errors stays 0 when the adapter answers 500, so this is the alarm that sees them."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.error_rate_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "servererrors"
    return_data = false

    metric {
      namespace   = "Shop"
      metric_name = "ServerErrors"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        service = var.service
      }
    }
  }

  metric_query {
    id          = "requests"
    return_data = false

    metric {
      namespace   = "Shop"
      metric_name = "Requests"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        service = var.service
      }
    }
  }

  metric_query {
    id          = "errorrate"
    expression  = "100 * servererrors / requests"
    label       = "Server errors (% of requests)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${var.function_name}-latency-p99"
  alarm_description   = "p99 of the adapter's Latency (handler time) above ${var.latency_p99_threshold} ms."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.latency_p99_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "latency"
    return_data = true

    metric {
      namespace   = "Shop"
      metric_name = "Latency"
      period      = 60
      stat        = "p99"
      dimensions  = {
        service = var.service
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.function_name}-throttles"
  alarm_description   = "Lambda throttled more than ${var.throttles_threshold} invocation(s) in a minute: concurrency (reserved, or the account's) is exhausted."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = var.throttles_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "throttles"
    return_data = true

    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        FunctionName = var.function_name
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "cold_start_rate" {
  alarm_name          = "${var.function_name}-cold-start-rate"
  alarm_description   = "Cold starts above ${var.cold_start_rate_threshold}% of requests: new execution environments are being created faster than usual (scaling, deployments, or environments recycled)."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 15
  datapoints_to_alarm = 10
  threshold           = var.cold_start_rate_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "coldstarts"
    return_data = false

    metric {
      namespace   = "Shop"
      metric_name = "ColdStart"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        function_name = var.function_name
        service       = var.service
      }
    }
  }

  metric_query {
    id          = "requests"
    return_data = false

    metric {
      namespace   = "Shop"
      metric_name = "Requests"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        service = var.service
      }
    }
  }

  metric_query {
    id          = "coldstartrate"
    expression  = "100 * FILL(coldstarts, 0) / requests"
    label       = "Cold starts (% of requests)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "front_door_5xx" {
  alarm_name          = "${var.function_name}-front-door-5xx"
  alarm_description   = "The front door answered more than ${var.front_door_5xx_threshold}% of its requests with a 5xx, including errors the function never saw (timeouts, integration failures, throttles turned into 5xx)."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.front_door_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "frontdoor5xx"
    return_data = false

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        LoadBalancer = var.load_balancer
        TargetGroup  = var.target_group
      }
    }
  }

  metric_query {
    id          = "frontdoorrequests"
    return_data = false

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        LoadBalancer = var.load_balancer
        TargetGroup  = var.target_group
      }
    }
  }

  metric_query {
    id          = "frontdoor5xxrate"
    expression  = "100 * FILL(frontdoor5xx, 0) / frontdoorrequests"
    label       = "Application Load Balancer 5xx (% of requests)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "duration_timeout" {
  alarm_name          = "${var.function_name}-duration-timeout"
  alarm_description   = "The slowest invocation took more than ${var.duration_timeout_threshold}% of the function's timeout: the next slow one may be killed by the timeout."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = var.duration_timeout_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "duration"
    return_data = false

    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Duration"
      period      = 60
      stat        = "Maximum"
      dimensions  = {
        FunctionName = var.function_name
      }
    }
  }

  metric_query {
    id          = "durationpct"
    expression  = "100 * duration / (${var.timeout_seconds} * 1000)"
    label       = "Max duration (% of the timeout)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "timeouts" {
  alarm_name          = "${var.function_name}-timeouts"
  alarm_description   = "The adapter's deadline watchdog reported more than ${var.timeouts_threshold} invocation(s) in a minute about to time out (its Timeouts metric): Lambda kills those at the deadline and the client gets a 5xx from the front door."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  datapoints_to_alarm = 1
  threshold           = var.timeouts_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "timeouts"
    return_data = true

    metric {
      namespace   = "Shop"
      metric_name = "Timeouts"
      period      = 60
      stat        = "Sum"
      dimensions  = {
        service = var.service
      }
    }
  }
}

resource "aws_cloudwatch_query_definition" "errors_by_route" {
  name            = "traced-asgi-lambda/${var.function_name}/errors-by-route"
  log_group_names = ["/aws/lambda/${var.function_name}"]
  query_string    = <<-EOT
    fields coalesce(route, "unmatched") as route_template
    | filter ispresent(duration_ms) and (status >= 500 or ispresent(error_type))
    | stats count(*) as errors, latest(error_type) as last_error_type by route_template, status
    | sort errors desc
    | limit 20
    EOT
}

resource "aws_cloudwatch_query_definition" "slowest_requests" {
  name            = "traced-asgi-lambda/${var.function_name}/slowest-requests"
  log_group_names = ["/aws/lambda/${var.function_name}"]
  query_string    = <<-EOT
    filter ispresent(duration_ms) and ispresent(method)
    | fields @timestamp, method, coalesce(route, path) as route_or_path, status, duration_ms, cold_start, function_request_id, trace_id
    | sort duration_ms desc
    | limit 20
    EOT
}

resource "aws_cloudwatch_query_definition" "cold_start_report" {
  name            = "traced-asgi-lambda/${var.function_name}/cold-start-report"
  log_group_names = ["/aws/lambda/${var.function_name}"]
  query_string    = <<-EOT
    filter @type = "REPORT"
    | stats count(@initDuration) as cold_starts, avg(@initDuration) as init_avg_ms, pct(@initDuration, 99) as init_p99_ms, max(@initDuration) as init_max_ms by bin(5m)
    EOT
}
