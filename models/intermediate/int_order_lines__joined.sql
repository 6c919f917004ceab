{{ config(materialized='view') }}
-- The whole of fct_order_lines, computed from the sources; fct_order_lines (incremental) copies what
-- changed from here and deletes what is no longer here.

with lines as (
    select * from {{ ref('stg_netsuite__sales_order_lines') }}
),

orders as (
    select * from {{ ref('int_orders__attributed') }}
)

select
    lines.sales_order_line_id as order_line_id,
    lines.sales_order_id as order_id,
    lines.line_number,
    lines.item_id as product_id,
    orders.customer_id,
    orders.rep_id,
    orders.territory,
    orders.region,
    orders.transaction_date as order_date,
    orders.status as order_status,
    lines.quantity,
    lines.unit_price,
    lines.amount,
    lines.quantity_fulfilled,
    lines.quantity_billed,
    lines.location_id,
    lines.is_closed,
    greatest(lines._dlt_load_id, orders._dlt_load_id) as _netsuite_load_id
from lines
inner join orders on orders.sales_order_id = lines.sales_order_id
