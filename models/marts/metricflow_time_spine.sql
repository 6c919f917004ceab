-- One row per day, the time spine MetricFlow joins metrics to (cumulative metrics, gaps, grains).
{{ config(materialized='table') }}

with days as (
    {{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2041-01-01' as date)") }}
)

select cast(date_day as date) as date_day
from days
