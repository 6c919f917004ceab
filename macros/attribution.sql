{#- What credits a NetSuite transaction (an order, an invoice) to the business, as CTEs to join:
    `attribution_customers` (NetSuite customer -> the customer matched across Salesforce and NetSuite, with
    that customer's rep), `attribution_employees` (NetSuite sales rep -> Salesforce user) and
    `attribution_reps` (rep -> territory and region). The rep credited is the transaction's own sales rep,
    else the customer's: {{ attributed_rep_id() }}. -#}
{% macro attribution_ctes() -%}
attribution_customers as (
    select customer_id, netsuite_customer_id, rep_id
    from {{ ref('int_customers__matched') }}
    where netsuite_customer_id is not null
),

attribution_employees as (
    select employee_id, salesforce_user_id from {{ ref('stg_netsuite__employees') }}
),

attribution_reps as (
    select rep_id, territory, region from {{ ref('int_sales_reps__territories') }}
)
{%- endmacro %}

{% macro attributed_rep_id() -%}
    coalesce(attribution_employees.salesforce_user_id, attribution_customers.rep_id)
{%- endmacro %}
