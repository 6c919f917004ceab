{{ config(materialized='view') }}
-- The whole of fct_activities: Salesforce tasks and events in one shape. fct_activities (incremental)
-- copies what changed from here and deletes what is no longer here.

with tasks as (
    select * from {{ ref('stg_salesforce__tasks') }}
    where not coalesce(is_deleted, false)
),

events as (
    select * from {{ ref('stg_salesforce__events') }}
    where not coalesce(is_deleted, false)
),

activities as (
    select
        task_id as activity_id,
        'task' as activity_type,
        subject,
        task_subtype as activity_subtype,
        account_id,
        what_id,
        who_id,
        owner_id,
        activity_date,
        status,
        is_closed as is_done,
        cast(null as bigint) as duration_minutes,
        created_at,
        _dlt_load_id
    from tasks
    union all
    select
        event_id as activity_id,
        'event' as activity_type,
        subject,
        'Meeting' as activity_subtype,
        account_id,
        what_id,
        who_id,
        owner_id,
        coalesce(activity_date, cast(starts_at as date)) as activity_date,
        case when cast(ends_at as date) <= {{ scc_today() }} then 'Completed' else 'Scheduled' end as status,
        cast(ends_at as date) <= {{ scc_today() }} as is_done,
        duration_minutes,
        created_at,
        _dlt_load_id
    from events
),

customers as (
    select customer_id, salesforce_account_id from {{ ref('int_customers__matched') }}
    where salesforce_account_id is not null
),

opportunities as (
    select opportunity_id from {{ ref('stg_salesforce__opportunities') }}
    where not coalesce(is_deleted, false)
),

reps as (
    select rep_id, territory, region from {{ ref('int_sales_reps__territories') }}
)

select
    activities.activity_id,
    activities.activity_type,
    activities.activity_subtype,
    activities.subject,
    customers.customer_id,
    opportunities.opportunity_id,
    activities.who_id as contact_id,
    activities.owner_id as rep_id,
    reps.territory,
    reps.region,
    activities.activity_date,
    activities.status,
    activities.is_done,
    activities.duration_minutes,
    activities.created_at,
    activities._dlt_load_id as _salesforce_load_id
from activities
left join customers on customers.salesforce_account_id = activities.account_id
left join opportunities on opportunities.opportunity_id = activities.what_id
left join reps on reps.rep_id = activities.owner_id
