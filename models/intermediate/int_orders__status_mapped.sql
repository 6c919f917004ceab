-- Sales orders with NetSuite's status mapped to the marts' status and to the four order states of
-- sales-metrics.md: pending = Pending Approval / Pending Fulfillment; partial = Partially Fulfilled /
-- Pending Billing-Partially Fulfilled; fulfilled = Pending Billing / Billed / Closed; cancelled.

with orders as (
    select
        *,
        {{ netsuite_order_status_code('status_code') }} as netsuite_status
    from {{ ref('stg_netsuite__sales_orders') }}
)

select
    sales_order_id,
    document_number,
    customer_id as netsuite_customer_id,
    sales_rep_employee_id,
    transaction_date,
    status_code,
    netsuite_status,
    {{ order_status_from_code('netsuite_status') }} as status,
    {{ order_status_group_from_code('netsuite_status') }} as status_group,
    total_amount,
    memo,
    external_id,
    entry_source,
    created_at,
    last_modified_at,
    _dlt_load_id
from orders
