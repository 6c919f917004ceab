-- Sales orders with their status mapped and attributed: the customer (matched across Salesforce and
-- NetSuite), the rep credited (the order's sales rep, else the customer's), and the rep's territory
-- and region. fct_orders, fct_order_lines and fct_invoices take their attribution from here.

with orders as (
    select * from {{ ref('int_orders__status_mapped') }}
),

customers as (
    select customer_id, netsuite_customer_id, rep_id
    from {{ ref('int_customers__matched') }}
    where netsuite_customer_id is not null
),

employees as (
    select employee_id, salesforce_user_id from {{ ref('stg_netsuite__employees') }}
),

reps as (
    select rep_id, territory, region from {{ ref('int_sales_reps__territories') }}
),

attributed as (
    select
        orders.*,
        customers.customer_id,
        coalesce(employees.salesforce_user_id, customers.rep_id) as rep_id
    from orders
    left join customers on customers.netsuite_customer_id = orders.netsuite_customer_id
    left join employees on employees.employee_id = orders.sales_rep_employee_id
)

select
    attributed.*,
    reps.territory,
    reps.region
from attributed
left join reps on reps.rep_id = attributed.rep_id
