-- Sales orders with their status mapped and attributed: the customer (matched across Salesforce and
-- NetSuite), the rep credited (the order's sales rep, else the customer's), and the rep's territory
-- and region (macros/attribution.sql, which fct_invoices uses too). fct_orders and fct_order_lines take
-- their attribution from here.

with orders as (
    select * from {{ ref('int_orders__status_mapped') }}
),

{{ attribution_ctes() }},

attributed as (
    select
        orders.*,
        attribution_customers.customer_id,
        {{ attributed_rep_id() }} as rep_id
    from orders
    left join attribution_customers on attribution_customers.netsuite_customer_id = orders.netsuite_customer_id
    left join attribution_employees on attribution_employees.employee_id = orders.sales_rep_employee_id
)

select
    attributed.*,
    attribution_reps.territory,
    attribution_reps.region
from attributed
left join attribution_reps on attribution_reps.rep_id = attributed.rep_id
