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

{#- Weekdays (Monday to Friday) from Monday 1970-01-05 up to the day before `day` (a DATE expression). -#}
{% macro weekdays_before(day) -%}
    (5 * cast(floor({{ days_between("cast('1970-01-05' as date)", day) }} / 7.0) as integer)
        + least(mod({{ days_between("cast('1970-01-05' as date)", day) }}, 7), 5))
{%- endmacro %}

{#- Business days (Monday to Friday) after `start` up to and including `end` (DATE expressions): Friday to
    the Monday after is 1. Holidays are not known and count as business days. -#}
{% macro business_days_between(start, end) -%}
    ({{ weekdays_before(add_days(end, 1)) }} - {{ weekdays_before(add_days(start, 1)) }})
{%- endmacro %}

{#- A DATE `days` days after `day` (a DATE expression); `days` may be negative or a column. -#}
{% macro add_days(day, days) -%}
    cast({{ dbt.dateadd('day', days, day) }} as date)
{%- endmacro %}

{#- First day of the quarter / month of a DATE, as a DATE. -#}
{% macro quarter_start(day) -%}
    cast({{ dbt.date_trunc('quarter', day) }} as date)
{%- endmacro %}
