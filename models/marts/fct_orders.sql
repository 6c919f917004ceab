with orders as (
    select * from {{ ref('int_orders__attributed') }}
),

lines as (
    select
        sales_order_id,
        count(*) as line_count,
        sum(quantity) as quantity,
        sum(quantity_fulfilled) as quantity_fulfilled,
        sum(quantity_billed) as quantity_billed
    from {{ ref('stg_netsuite__sales_order_lines') }}
    group by sales_order_id
)

select
    orders.sales_order_id as order_id,
    orders.document_number as order_number,
    orders.customer_id,
    orders.rep_id,
    orders.territory,
    orders.region,
    orders.transaction_date as order_date,
    orders.status,
    orders.status_group,
    orders.netsuite_status,
    {{ money('orders.total_amount') }} as total_amount,
    coalesce(lines.line_count, 0) as line_count,
    cast(coalesce(lines.quantity, 0) as decimal(18, 4)) as quantity,
    cast(coalesce(lines.quantity_fulfilled, 0) as decimal(18, 4)) as quantity_fulfilled,
    case when lines.quantity > 0
        then cast(round(100 * lines.quantity_fulfilled / lines.quantity, 2) as decimal(5, 2))
    end as fulfillment_pct,
    case when orders.status_group in ('pending', 'partial')
        then {{ days_between('orders.transaction_date', scc_today()) }}
    end as days_open,
    orders.status_group = 'fulfilled' as is_fulfilled,
    orders.status_group = 'cancelled' as is_cancelled,
    lower(replace(orders.entry_source, ' ', '_')) as source_system,
    orders.external_id,
    orders.memo,
    orders.created_at,
    orders.last_modified_at
from orders
left join lines on lines.sales_order_id = orders.sales_order_id
