-- One row per Salesforce user, with the NetSuite employee that mirrors them: the one place facts look
-- up a rep's territory and region, and NetSuite's sales rep (an employee) becomes a Salesforce user.
-- Every user, sellers or not: an account or a deal owned by a manager, the executive or finance is theirs.

with users as (
    select * from {{ ref('stg_salesforce__users') }}
),

employees as (
    select * from {{ ref('stg_netsuite__employees') }}
),

-- A Salesforce user may be linked from more than one employee record: keep the active, lowest id.
employee_of_user as (
    select salesforce_user_id, employee_id
    from (
        select
            salesforce_user_id,
            employee_id,
            row_number() over (
                partition by salesforce_user_id order by case when is_inactive then 1 else 0 end, employee_id
            ) as preference
        from employees
        where salesforce_user_id is not null
    ) ranked
    where preference = 1
)

select
    users.user_id as rep_id,
    users.user_name as rep_name,
    users.email,
    users.title,
    users.sales_role as role,
    -- What facts are attributed to: the user's territory, or 'Unassigned' for an owner without one (the
    -- executive, finance, the integration user), so a row they own is still scoped (execs see it).
    coalesce(users.territory, 'Unassigned') as territory,
    coalesce(users.region, 'Unassigned') as region,
    users.territory as own_territory,
    users.region as own_region,
    users.manager_id,
    users.quarterly_quota,
    users.is_active,
    users.sales_role in ('Sales Rep', 'Sales Manager', 'Sales Executive') as is_seller,
    employee_of_user.employee_id as netsuite_employee_id
from users
left join employee_of_user on employee_of_user.salesforce_user_id = users.user_id
