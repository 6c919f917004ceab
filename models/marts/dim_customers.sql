with matched as (
    select * from {{ ref('int_customers__matched') }}
),

accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
),

netsuite_customers as (
    select * from {{ ref('stg_netsuite__customers') }}
),

order_history as (
    select * from {{ ref('int_customers__order_history') }}
),

reps as (
    select * from {{ ref('int_sales_reps__territories') }}
)

select
    matched.customer_id,
    matched.customer_name,
    accounts.industry,
    reps.region,
    reps.territory,
    matched.rep_id,
    reps.rep_name,
    matched.salesforce_account_id,
    matched.netsuite_customer_id,
    matched.match_method,
    accounts.account_type,
    netsuite_customers.category as customer_category,
    netsuite_customers.terms as payment_terms,
    accounts.billing_city,
    accounts.billing_state,
    {{ money('netsuite_customers.credit_limit') }} as credit_limit,
    {{ money('coalesce(netsuite_customers.balance, 0)') }} as open_balance,
    order_history.order_count,
    order_history.first_order_date,
    order_history.last_order_date,
    order_history.days_since_last_order,
    order_history.business_days_since_last_order,
    order_history.usual_order_gap_days,
    order_history.usual_order_gap_business_days,
    {{ money('order_history.lifetime_revenue') }} as lifetime_revenue,
    {{ money('order_history.revenue_last_90d') }} as revenue_last_90d,
    {{ money('order_history.revenue_prior_90d') }} as revenue_prior_90d,
    order_history.health,
    case when order_history.lifetime_revenue > 0 then
        row_number() over (order by order_history.lifetime_revenue desc, matched.customer_id)
    end as lifetime_revenue_rank,
    case when order_history.revenue_last_90d > 0 then
        row_number() over (order by order_history.revenue_last_90d desc, matched.customer_id)
    end as revenue_last_90d_rank,
    coalesce(netsuite_customers.is_inactive, false) as is_inactive_in_netsuite,
    matched.created_at
from matched
left join accounts on accounts.account_id = matched.salesforce_account_id
left join netsuite_customers on netsuite_customers.customer_id = matched.netsuite_customer_id
left join order_history on order_history.customer_id = matched.customer_id
left join reps on reps.rep_id = matched.rep_id
