{{ config(materialized='view') }}
-- The whole of fct_opportunity_history: each stage or amount change with the stage it came from and
-- the close date before it; attributed to the opportunity's current owner. fct_opportunity_history
-- (incremental) copies what changed from here and deletes what is no longer here.

with history as (
    select * from {{ ref('stg_salesforce__opportunity_history') }}
    where not coalesce(is_deleted, false)
),

opportunities as (
    select opportunity_id, account_id, owner_id, _dlt_load_id
    from {{ ref('stg_salesforce__opportunities') }}
    where not coalesce(is_deleted, false)
),

customers as (
    select customer_id, salesforce_account_id from {{ ref('int_customers__matched') }}
    where salesforce_account_id is not null
),

reps as (
    select rep_id, territory, region from {{ ref('int_sales_reps__territories') }}
),

ordered as (
    select
        history.*,
        lag(history.stage) over (
            partition by history.opportunity_id order by history.changed_at, history.opportunity_history_id
        ) as from_stage,
        lag(history.close_date) over (
            partition by history.opportunity_id order by history.changed_at, history.opportunity_history_id
        ) as previous_close_date,
        lag(history.amount) over (
            partition by history.opportunity_id order by history.changed_at, history.opportunity_history_id
        ) as previous_amount
    from history
)

select
    ordered.opportunity_history_id,
    ordered.opportunity_id,
    customers.customer_id,
    ordered.changed_at,
    cast(ordered.changed_at as date) as changed_date,
    ordered.from_stage,
    ordered.stage as to_stage,
    ordered.from_stage is null or ordered.from_stage <> ordered.stage as is_stage_change,
    ordered.amount,
    ordered.previous_amount,
    ordered.probability,
    ordered.forecast_category,
    ordered.close_date,
    ordered.previous_close_date,
    coalesce(
        ordered.stage not in ('Closed Won', 'Closed Lost') and ordered.close_date > ordered.previous_close_date,
        false
    ) as is_close_date_push,
    opportunities.owner_id as rep_id,
    reps.territory,
    reps.region,
    greatest(ordered._dlt_load_id, opportunities._dlt_load_id) as _salesforce_load_id
from ordered
inner join opportunities on opportunities.opportunity_id = ordered.opportunity_id
left join customers on customers.salesforce_account_id = opportunities.account_id
left join reps on reps.rep_id = opportunities.owner_id
