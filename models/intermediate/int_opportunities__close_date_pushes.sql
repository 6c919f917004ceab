-- Close-date changes of each opportunity, from OpportunityHistory: a push is a history row, written
-- while the deal is open, whose close date is later than the row before it (pulled-in is the reverse).
-- The row that closes a deal (close date set to the day it closed) is neither.

with history as (
    select
        opportunity_history_id,
        opportunity_id,
        stage,
        close_date,
        changed_at,
        lag(close_date) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as previous_close_date
    from {{ ref('stg_salesforce__opportunity_history') }}
    where not coalesce(is_deleted, false)
),

opportunities as (
    select opportunity_id from {{ ref('stg_salesforce__opportunities') }}
    where not coalesce(is_deleted, false)
)

select
    opportunities.opportunity_id,
    sum(case
        when history.stage not in ('Closed Won', 'Closed Lost')
            and history.close_date > history.previous_close_date then 1 else 0
    end) as close_date_pushes,
    sum(case
        when history.stage not in ('Closed Won', 'Closed Lost')
            and history.close_date < history.previous_close_date then 1 else 0
    end) as close_date_pull_ins,
    min(case when history.previous_close_date is null then history.close_date end) as first_close_date
from opportunities
left join history on history.opportunity_id = opportunities.opportunity_id
group by opportunities.opportunity_id
