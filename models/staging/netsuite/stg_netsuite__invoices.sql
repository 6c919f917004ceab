with source as (
    select * from {{ source('netsuite', 'invoices') }}
),

renamed as (
    select
        cast(id as bigint) as invoice_id,
        cast(tranid as varchar) as document_number,
        cast(type as varchar) as transaction_type,
        cast(entity as bigint) as customer_id,
        cast(employee as bigint) as sales_rep_employee_id,
        cast(trandate as date) as transaction_date,
        cast(duedate as date) as due_date,
        cast(status as varchar) as status_code,
        {{ money('foreigntotal') }} as total_amount,
        {{ money('foreignamountunpaid') }} as amount_unpaid,
        cast(createdfrom as bigint) as created_from_id,
        cast(memo as varchar) as memo,
        cast(externalid as varchar) as external_id,
        cast(source as varchar) as entry_source,
        {{ to_utc_timestamp('createddate') }} as created_at,
        {{ to_utc_timestamp('lastmodifieddate') }} as last_modified_at,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
