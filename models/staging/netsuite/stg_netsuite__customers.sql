with source as (
    select * from {{ source('netsuite', 'customers') }}
),

renamed as (
    select
        cast(id as bigint) as customer_id,
        cast(entityid as varchar) as entity_id,
        cast(companyname as varchar) as company_name,
        cast(email as varchar) as email,
        cast(phone as varchar) as phone,
        cast(salesrep as bigint) as sales_rep_employee_id,
        {{ money('creditlimit') }} as credit_limit,
        {{ money('balance') }} as balance,
        cast(terms as varchar) as terms,
        cast(category as varchar) as category,
        coalesce(isinactive = 'T', false) as is_inactive,
        cast(externalid as varchar) as external_id,
        {{ to_utc_timestamp('datecreated') }} as created_at,
        {{ to_utc_timestamp('lastmodifieddate') }} as last_modified_at,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
