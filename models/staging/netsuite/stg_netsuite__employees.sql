with source as (
    select * from {{ source('netsuite', 'employees') }}
),

renamed as (
    select
        cast(id as bigint) as employee_id,
        cast(entityid as varchar) as employee_name,
        cast(firstname as varchar) as first_name,
        cast(lastname as varchar) as last_name,
        cast(email as varchar) as email,
        coalesce(issalesrep = 'T', false) as is_sales_rep,
        coalesce(isinactive = 'T', false) as is_inactive,
        cast(custentity_scc_sf_user_id as varchar) as salesforce_user_id,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
