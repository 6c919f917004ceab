select
    rep_id,
    rep_name,
    email,
    title,
    role,
    territory,
    region,
    manager_id,
    {{ money('quarterly_quota') }} as quarterly_quota,
    netsuite_employee_id,
    is_active
from {{ ref('int_sales_reps__territories') }}
where is_seller
