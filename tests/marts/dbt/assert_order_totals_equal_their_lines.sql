-- dbt singular test: an order's total is the sum of its item lines (NetSuite computes it so; a
-- difference means lines were lost or duplicated on the way into the marts).
{{ config(severity='warn') }}

select orders.order_id, orders.total_amount, sum(lines.amount) as lines_amount
from {{ ref('fct_orders') }} as orders
inner join {{ ref('fct_order_lines') }} as lines on lines.order_id = orders.order_id
group by orders.order_id, orders.total_amount
having orders.total_amount <> sum(lines.amount)
