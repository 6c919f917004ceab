with items as (
    select * from {{ ref('stg_netsuite__items') }}
),

stock as (
    select
        item_id,
        sum(quantity_on_hand) as quantity_on_hand,
        sum(quantity_available) as quantity_available,
        sum(quantity_committed) as quantity_committed,
        sum(quantity_backordered) as quantity_backordered
    from {{ ref('stg_netsuite__inventory') }}
    group by item_id
)

select
    items.item_id as product_id,
    items.sku,
    items.item_name as product_name,
    items.category,
    items.sales_description,
    {{ money('items.base_price') }} as list_price,
    {{ money('items.min_price') }} as min_price,
    {{ money('items.cost') }} as unit_cost,
    cast(coalesce(stock.quantity_on_hand, 0) as decimal(18, 4)) as quantity_on_hand,
    cast(coalesce(stock.quantity_available, 0) as decimal(18, 4)) as quantity_available,
    cast(coalesce(stock.quantity_committed, 0) as decimal(18, 4)) as quantity_committed,
    cast(coalesce(stock.quantity_backordered, 0) as decimal(18, 4)) as quantity_backordered,
    not items.is_inactive as is_active
from items
left join stock on stock.item_id = items.item_id
