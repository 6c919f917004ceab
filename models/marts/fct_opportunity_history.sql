{{ config(
    materialized='incremental',
    unique_key='opportunity_history_id',
    incremental_strategy='delete+insert',
    post_hook=["{{ delete_vanished_rows('opportunity_history_id', ref('int_opportunity_history__enriched')) }}"],
) }}

with source as (
    select * from {{ ref('int_opportunity_history__enriched') }}
)

{% if is_incremental() %}
select source.*
from source
left join {{ this }} as existing on existing.opportunity_history_id = source.opportunity_history_id
where {{ changed_rows_filter(ref('int_opportunity_history__enriched'), 'source', 'existing', 'opportunity_history_id', ['_salesforce_load_id']) }}
{% else %}
select * from source
{% endif %}
