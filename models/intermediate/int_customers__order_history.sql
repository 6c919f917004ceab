-- Ordering history and health of every customer. Orders count when not cancelled (bookings), by order
-- date; "the last 90 days" are today and the 89 days before it, "the prior 90 days" the 90 before those.
--
-- health, the first rule that holds (the one definition: the dashboard and the insights read it here):
--   inactive  never ordered (and known for more than new_customer_days), or no order for inactive_after_days
--   new       first order (or, without orders, creation) within the last new_customer_days
--   at_risk   not growing (the last 90 days' revenue no more than the prior 90 days'), a rhythm to judge by
--             (at least at_risk_min_orders orders), and business days since the last order above both
--             at_risk_gap_factor x its usual gap in business days and at_risk_min_business_days: the gap is
--             the customer's own, a weekend is no gap, and a growing customer is never at risk
--   declining revenue of the last 90 days < declining_revenue_ratio x the prior 90 days
--   healthy   otherwise

with customers as (
    select customer_id, netsuite_customer_id, created_at
    from {{ ref('int_customers__matched') }}
),

orders as (
    select
        customers.customer_id,
        orders.transaction_date as order_date,
        orders.total_amount
    from {{ ref('int_orders__status_mapped') }} as orders
    inner join customers on customers.netsuite_customer_id = orders.netsuite_customer_id
    where orders.status <> 'cancelled'
),

per_customer as (
    select
        customer_id,
        count(*) as order_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        {{ sum_money('total_amount') }} as lifetime_revenue,
        {{ sum_money("case when order_date between " ~ add_days(scc_today(), -89) ~ " and " ~ scc_today()
            ~ " then total_amount end") }} as revenue_last_90d,
        {{ sum_money("case when order_date between " ~ add_days(scc_today(), -179) ~ " and "
            ~ add_days(scc_today(), -90) ~ " then total_amount end") }} as revenue_prior_90d
    from orders
    group by customer_id
),

measured as (
    select
        customers.customer_id,
        cast(coalesce(per_customer.order_count, 0) as bigint) as order_count,
        per_customer.first_order_date,
        per_customer.last_order_date,
        {{ money('coalesce(per_customer.lifetime_revenue, 0)') }} as lifetime_revenue,
        {{ money('coalesce(per_customer.revenue_last_90d, 0)') }} as revenue_last_90d,
        {{ money('coalesce(per_customer.revenue_prior_90d, 0)') }} as revenue_prior_90d,
        case when per_customer.order_count > 1 then cast(
            cast({{ days_between('per_customer.first_order_date', 'per_customer.last_order_date') }} as decimal(12, 2))
                / (per_customer.order_count - 1)
            as decimal(12, 2))
        end as usual_order_gap_days,
        case when per_customer.order_count > 1 then cast(
            cast({{ business_days_between('per_customer.first_order_date', 'per_customer.last_order_date') }}
                as decimal(12, 2)) / (per_customer.order_count - 1)
            as decimal(12, 2))
        end as usual_order_gap_business_days,
        {{ days_between('per_customer.last_order_date', scc_today()) }} as days_since_last_order,
        {{ business_days_between('per_customer.last_order_date', scc_today()) }} as business_days_since_last_order,
        {{ days_between('cast(customers.created_at as date)', scc_today()) }} as days_since_created,
        {{ days_between('per_customer.first_order_date', scc_today()) }} as days_since_first_order
    from customers
    left join per_customer on per_customer.customer_id = customers.customer_id
)

select
    customer_id,
    order_count,
    first_order_date,
    last_order_date,
    lifetime_revenue,
    revenue_last_90d,
    revenue_prior_90d,
    usual_order_gap_days,
    usual_order_gap_business_days,
    days_since_last_order,
    business_days_since_last_order,
    case
        when order_count = 0 then
            case when days_since_created < {{ var('new_customer_days') }} then 'new' else 'inactive' end
        when days_since_last_order > {{ var('inactive_after_days') }} then 'inactive'
        when days_since_first_order < {{ var('new_customer_days') }} then 'new'
        when revenue_last_90d <= revenue_prior_90d
            and order_count >= {{ var('at_risk_min_orders') }}
            and business_days_since_last_order > {{ var('at_risk_min_business_days') }}
            and business_days_since_last_order > {{ var('at_risk_gap_factor') }} * usual_order_gap_business_days
            then 'at_risk'
        when revenue_prior_90d > 0
            and revenue_last_90d < {{ var('declining_revenue_ratio') }} * revenue_prior_90d then 'declining'
        else 'healthy'
    end as health
from measured
