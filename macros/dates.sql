{#- Date and time helpers that render the same meaning on DuckDB and PostgreSQL. -#}

{#- A TIMESTAMP WITH TIME ZONE as a plain TIMESTAMP in UTC (the marts' convention for instants). -#}
{% macro to_utc_timestamp(column) -%}
    cast(({{ column }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- The UTC calendar date of a TIMESTAMP WITH TIME ZONE. -#}
{% macro to_utc_date(column) -%}
    cast(({{ column }}) at time zone 'UTC' as date)
{%- endmacro %}

{#- Whole days from `start` to `end` (both DATE expressions); negative when `end` is earlier. -#}
{% macro days_between(start, end) -%}
    cast({{ dbt.datediff(start, end, 'day') }} as integer)
{%- endmacro %}

{#- A DATE `days` days after `day` (a DATE expression); `days` may be negative or a column. -#}
{% macro add_days(day, days) -%}
    cast({{ dbt.dateadd('day', days, day) }} as date)
{%- endmacro %}

{#- First day of the quarter / month of a DATE, as a DATE. -#}
{% macro quarter_start(day) -%}
    cast({{ dbt.date_trunc('quarter', day) }} as date)
{%- endmacro %}
