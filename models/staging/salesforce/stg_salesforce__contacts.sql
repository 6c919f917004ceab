with source as (
    select * from {{ source('salesforce', 'contact') }}
),

renamed as (
    select
        cast(id as varchar) as contact_id,
        cast(account_id as varchar) as account_id,
        cast(first_name as varchar) as first_name,
        cast(last_name as varchar) as last_name,
        cast(name as varchar) as contact_name,
        cast(title as varchar) as title,
        cast(email as varchar) as email,
        cast(phone as varchar) as phone,
        cast(owner_id as varchar) as owner_id,
        cast(is_deleted as boolean) as is_deleted,
        {{ to_utc_timestamp('created_date') }} as created_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
