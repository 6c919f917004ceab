{{ config(
    materialized='incremental',
    unique_key='order_line_id',
    incremental_strategy='delete+insert',
    post_hook=["{{ delete_vanished_rows('order_line_id', ref('int_order_lines__joined')) }}"],
) }}

with source as (
    select * from {{ ref('int_order_lines__joined') }}
)

{% if is_incremental() %}
select source.*
from source
left join {{ this }} as existing on existing.order_line_id = source.order_line_id
where {{ changed_rows_filter(ref('int_order_lines__joined'), 'source', 'existing', 'order_line_id', ['_netsuite_load_id']) }}
{% else %}
select * from source
{% endif %}
