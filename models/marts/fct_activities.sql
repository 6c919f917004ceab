{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    post_hook=["{{ delete_vanished_rows('activity_id', ref('int_activities__unioned')) }}"],
) }}

with source as (
    select * from {{ ref('int_activities__unioned') }}
)

{% if is_incremental() %}
select source.*
from source
left join {{ this }} as existing on existing.activity_id = source.activity_id
where {{ changed_rows_filter(ref('int_activities__unioned'), 'source', 'existing', 'activity_id', ['_salesforce_load_id']) }}
{% else %}
select * from source
{% endif %}
