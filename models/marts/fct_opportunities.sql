with opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where not coalesce(is_deleted, false)
),

stays as (
    select * from {{ ref('int_opportunities__stage_durations') }}
),

pushes as (
    select * from {{ ref('int_opportunities__close_date_pushes') }}
),

customers as (
    select customer_id, salesforce_account_id from {{ ref('int_customers__matched') }}
    where salesforce_account_id is not null
),

reps as (
    select rep_id, territory, region from {{ ref('int_sales_reps__territories') }}
),

-- The usual time in each stage: the median days won deals spent in it (completed stays only).
won_stage_medians as (
    select
        stays.stage,
        percentile_cont(0.5) within group (order by stays.days_in_stage) as median_days_in_stage
    from stays
    inner join opportunities on opportunities.opportunity_id = stays.opportunity_id
    where opportunities.is_won
        and not stays.is_current_stage
        and stays.stage not in ('Closed Won', 'Closed Lost')
    group by stays.stage
),

current_stays as (
    select * from stays where is_current_stage
),

measured as (
    select
        opportunities.*,
        case
            when current_stays.opportunity_id is null then opportunities.created_at
            when current_stays.stage = opportunities.stage then current_stays.stage_entered_at
            else opportunities.last_modified_at
        end as stage_entered_at,
        won_stage_medians.median_days_in_stage,
        coalesce(pushes.close_date_pushes, 0) as close_date_pushes,
        coalesce(pushes.close_date_pull_ins, 0) as close_date_pull_ins,
        pushes.first_close_date
    from opportunities
    left join current_stays on current_stays.opportunity_id = opportunities.opportunity_id
    left join won_stage_medians on won_stage_medians.stage = opportunities.stage
    left join pushes on pushes.opportunity_id = opportunities.opportunity_id
),

with_days as (
    select
        measured.*,
        {{ days_between('cast(stage_entered_at as date)', scc_today()) }} as days_in_stage,
        {{ days_between('coalesce(last_activity_date, cast(created_at as date))', scc_today()) }}
            as days_since_last_activity
    from measured
)

select
    with_days.opportunity_id,
    with_days.opportunity_name,
    customers.customer_id,
    with_days.owner_id as rep_id,
    reps.territory,
    reps.region,
    with_days.stage,
    with_days.forecast_category,
    with_days.amount,
    with_days.probability,
    {{ money('with_days.amount * with_days.probability / 100') }} as weighted_amount,
    cast(with_days.created_at as date) as created_date,
    with_days.close_date,
    with_days.is_closed,
    with_days.is_won,
    not with_days.is_closed as is_open,
    with_days.is_closed and not with_days.is_won as is_lost,
    with_days.stage_entered_at,
    with_days.days_in_stage,
    with_days.median_days_in_stage as won_median_days_in_stage,
    with_days.last_activity_date,
    with_days.days_since_last_activity,
    coalesce(
        not with_days.is_closed and (
            with_days.days_in_stage > {{ var('stalled_stage_factor') }} * with_days.median_days_in_stage
            or with_days.days_since_last_activity > {{ var('stalled_no_activity_days') }}
        ),
        false
    ) as is_stalled,
    with_days.close_date_pushes,
    with_days.close_date_pull_ins,
    with_days.close_date_pushes > 0 as is_slipped,
    with_days.first_close_date,
    case when with_days.is_closed
        then {{ days_between('cast(with_days.created_at as date)', 'with_days.close_date') }}
    end as sales_cycle_days,
    with_days.opportunity_type,
    with_days.lead_source,
    with_days.product_category,
    with_days.next_step,
    with_days.created_at
from with_days
left join customers on customers.salesforce_account_id = with_days.account_id
left join reps on reps.rep_id = with_days.owner_id
