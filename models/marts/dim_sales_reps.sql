-- The sellers, plus any other user who owns business (an account, deal, order, invoice or activity
-- attributed to them: a manager's own deal, an account left with finance), so every fact's rep_id is here.
-- A non-seller's territory and region are those their rows are attributed to (their own, or 'Unassigned').

with users as (
    select * from {{ ref('int_sales_reps__territories') }}
),

owners as (
    select rep_id from {{ ref('dim_customers') }}
    union select rep_id from {{ ref('fct_opportunities') }}
    union select rep_id from {{ ref('fct_orders') }}
    union select rep_id from {{ ref('fct_invoices') }}
    union select rep_id from {{ ref('fct_activities') }}
    union select rep_id from {{ ref('fct_opportunity_history') }}
)

select
    rep_id,
    rep_name,
    email,
    title,
    role,
    case when is_seller then own_territory else territory end as territory,
    case when is_seller then own_region else region end as region,
    manager_id,
    {{ money('quarterly_quota') }} as quarterly_quota,
    netsuite_employee_id,
    is_active,
    is_seller
from users
where is_seller or rep_id in (select rep_id from owners where rep_id is not null)
