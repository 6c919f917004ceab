-- Each seller's quota per calendar quarter: the quarterly quota on the Salesforce user, for the
-- quarters from quota_quarters_back before the current one to quota_quarters_ahead after it.

with quarters as (
    select date_day as quarter_start_date
    from {{ ref('metricflow_time_spine') }}
    where date_day = {{ quarter_start('date_day') }}
        and date_day >= {{ add_days(dbt.dateadd('month', -3 * var('quota_quarters_back'), quarter_start(scc_today())), 0) }}
        and date_day <= {{ add_days(dbt.dateadd('month', 3 * var('quota_quarters_ahead'), quarter_start(scc_today())), 0) }}
),

reps as (
    select * from {{ ref('int_sales_reps__territories') }}
    where is_seller and quarterly_quota is not null
)

select
    reps.rep_id || '-' || cast(quarters.quarter_start_date as varchar) as quota_id,
    reps.rep_id,
    reps.territory,
    reps.region,
    quarters.quarter_start_date,
    {{ add_days(dbt.dateadd('month', 3, 'quarters.quarter_start_date'), -1) }} as quarter_end_date,
    {{ money('reps.quarterly_quota') }} as quota_amount
from reps
cross join quarters
