-- One row per stay of an opportunity in a stage, from OpportunityHistory: consecutive history rows with
-- the same stage (close-date or amount changes) are one stay. The current stay (no later stage yet) is
-- counted up to today.

with history as (
    select
        opportunity_history_id,
        opportunity_id,
        stage,
        changed_at
    from {{ ref('stg_salesforce__opportunity_history') }}
    where not coalesce(is_deleted, false)
),

with_previous as (
    select
        *,
        lag(stage) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as previous_stage
    from history
),

numbered as (
    select
        *,
        sum(case when previous_stage is null or previous_stage <> stage then 1 else 0 end) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
            rows between unbounded preceding and current row
        ) as stage_sequence
    from with_previous
),

stays as (
    select
        opportunity_id,
        stage_sequence,
        min(stage) as stage,
        min(changed_at) as stage_entered_at
    from numbered
    group by opportunity_id, stage_sequence
),

with_exit as (
    select
        *,
        lead(stage_entered_at) over (partition by opportunity_id order by stage_sequence) as stage_exited_at,
        lead(stage) over (partition by opportunity_id order by stage_sequence) as next_stage
    from stays
)

select
    opportunity_id || '-' || cast(stage_sequence as varchar) as stage_stay_id,
    opportunity_id,
    stage_sequence,
    stage,
    stage_entered_at,
    stage_exited_at,
    next_stage,
    stage_exited_at is null as is_current_stage,
    {{ days_between(
        'cast(stage_entered_at as date)',
        'coalesce(cast(stage_exited_at as date), ' ~ scc_today() ~ ')'
    ) }} as days_in_stage
from with_exit
