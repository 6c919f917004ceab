with invoices as (
    select * from {{ ref('stg_netsuite__invoices') }}
),

{{ attribution_ctes() }},

attributed as (
    select
        invoices.*,
        attribution_customers.customer_id as matched_customer_id,
        {{ attributed_rep_id() }} as rep_id,
        case
            when invoices.status_code in ('B', 'CustInvc:B') then 'paid'
            when invoices.status_code in ('A', 'CustInvc:A') then 'open'
            when coalesce(invoices.amount_unpaid, 0) > 0 then 'open'
            else 'paid'
        end as status
    from invoices
    left join attribution_customers on attribution_customers.netsuite_customer_id = invoices.customer_id
    left join attribution_employees on attribution_employees.employee_id = invoices.sales_rep_employee_id
)

select
    attributed.invoice_id,
    attributed.document_number as invoice_number,
    attributed.matched_customer_id as customer_id,
    attributed.created_from_id as order_id,
    attributed.rep_id,
    attribution_reps.territory,
    attribution_reps.region,
    attributed.transaction_date as invoice_date,
    attributed.due_date,
    {{ money('attributed.total_amount') }} as amount,
    {{ money("coalesce(attributed.amount_unpaid, case when attributed.status = 'open' then attributed.total_amount else 0 end)") }}
        as amount_remaining,
    attributed.status,
    case
        when attributed.status = 'open' and attributed.due_date < {{ scc_today() }}
            then {{ days_between('attributed.due_date', scc_today()) }}
        else 0
    end as days_overdue,
    attributed.status = 'open' and attributed.due_date < {{ scc_today() }} as is_overdue,
    {{ days_between('attributed.transaction_date', scc_today()) }} as days_since_invoice,
    attributed.created_at,
    attributed.last_modified_at
from attributed
left join attribution_reps on attribution_reps.rep_id = attributed.rep_id
