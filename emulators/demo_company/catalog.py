"""Static vocabulary of the demo company: territories, names, products, subjects.

Everything here is plain data; the generator draws from it with its seeded random streams.
"""

from __future__ import annotations

COMPANY_NAME = "Summit Brand Works"
EMAIL_DOMAIN = "scc-demo.example"
INTEGRATION_USERNAME = "integration@scc-demo.example"

# Territory -> (region, [(state, population weight, cities)])
TERRITORIES: dict[str, tuple[str, list[tuple[str, float, list[str]]]]] = {
    "Pacific": (
        "West",
        [
            ("CA", 39.0, ["Los Angeles", "San Francisco", "San Diego", "San Jose", "Sacramento", "Irvine",
                          "Oakland", "Burbank", "Santa Monica", "Fresno"]),
            ("WA", 7.8, ["Seattle", "Bellevue", "Spokane", "Tacoma", "Redmond"]),
            ("OR", 4.2, ["Portland", "Eugene", "Salem", "Bend"]),
            ("HI", 1.4, ["Honolulu"]),
            ("AK", 0.7, ["Anchorage"]),
        ],
    ),
    "Southwest": (
        "West",
        [
            ("TX", 30.0, ["Houston", "Dallas", "Austin", "San Antonio", "Fort Worth", "Plano", "El Paso"]),
            ("AZ", 7.4, ["Phoenix", "Tucson", "Scottsdale", "Tempe", "Mesa"]),
            ("CO", 5.9, ["Denver", "Boulder", "Colorado Springs", "Fort Collins"]),
            ("NV", 3.2, ["Las Vegas", "Reno", "Henderson"]),
            ("UT", 3.4, ["Salt Lake City", "Provo", "Park City"]),
            ("OK", 4.0, ["Oklahoma City", "Tulsa"]),
            ("NM", 2.1, ["Albuquerque", "Santa Fe"]),
        ],
    ),
    "Midwest": (
        "Central",
        [
            ("IL", 12.6, ["Chicago", "Naperville", "Springfield", "Peoria"]),
            ("OH", 11.8, ["Columbus", "Cleveland", "Cincinnati", "Dayton"]),
            ("MI", 10.0, ["Detroit", "Grand Rapids", "Ann Arbor", "Lansing"]),
            ("IN", 6.8, ["Indianapolis", "Fort Wayne", "Bloomington"]),
            ("WI", 5.9, ["Milwaukee", "Madison", "Green Bay"]),
            ("MN", 5.7, ["Minneapolis", "St. Paul", "Rochester"]),
            ("MO", 6.2, ["St. Louis", "Kansas City", "Springfield"]),
            ("IA", 3.2, ["Des Moines", "Cedar Rapids", "Iowa City"]),
            ("KS", 2.9, ["Wichita", "Overland Park"]),
            ("NE", 2.0, ["Omaha", "Lincoln"]),
        ],
    ),
    "Northeast": (
        "East",
        [
            ("NY", 19.6, ["New York", "Brooklyn", "Buffalo", "Rochester", "Albany"]),
            ("PA", 13.0, ["Philadelphia", "Pittsburgh", "Harrisburg", "Allentown"]),
            ("NJ", 9.3, ["Newark", "Jersey City", "Princeton", "Hoboken"]),
            ("MA", 7.0, ["Boston", "Cambridge", "Worcester", "Springfield"]),
            ("MD", 6.2, ["Baltimore", "Bethesda", "Annapolis"]),
            ("CT", 3.6, ["Hartford", "Stamford", "New Haven"]),
            ("NH", 1.4, ["Manchester", "Nashua"]),
            ("RI", 1.1, ["Providence"]),
            ("ME", 1.4, ["Portland", "Bangor"]),
            ("VT", 0.6, ["Burlington"]),
            ("DE", 1.0, ["Wilmington", "Dover"]),
        ],
    ),
    "Southeast": (
        "East",
        [
            ("FL", 22.2, ["Miami", "Orlando", "Tampa", "Jacksonville", "Fort Lauderdale"]),
            ("GA", 10.9, ["Atlanta", "Savannah", "Alpharetta", "Athens"]),
            ("NC", 10.7, ["Charlotte", "Raleigh", "Durham", "Greensboro"]),
            ("VA", 8.6, ["Richmond", "Arlington", "Virginia Beach", "Norfolk"]),
            ("TN", 7.0, ["Nashville", "Memphis", "Knoxville", "Chattanooga"]),
            ("SC", 5.2, ["Charleston", "Columbia", "Greenville"]),
            ("AL", 5.0, ["Birmingham", "Huntsville", "Mobile"]),
            ("KY", 4.5, ["Louisville", "Lexington"]),
            ("LA", 4.6, ["New Orleans", "Baton Rouge"]),
        ],
    ),
}
TERRITORY_NAMES: tuple[str, ...] = tuple(TERRITORIES)
REGION_OF_TERRITORY = {t: region for t, (region, _) in TERRITORIES.items()}

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
    "Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kevin", "Michelle",
    "Brian", "Carol", "George", "Amanda", "Timothy", "Melissa", "Ronald", "Deborah", "Jason", "Stephanie",
    "Ryan", "Rebecca", "Jacob", "Laura", "Gary", "Sharon", "Nicholas", "Cynthia", "Eric", "Kathleen",
    "Jonathan", "Amy", "Stephen", "Angela", "Larry", "Shirley", "Justin", "Anna", "Scott", "Brenda",
    "Brandon", "Pamela", "Benjamin", "Emma", "Samuel", "Nicole", "Gregory", "Helen", "Alexander", "Samantha",
    "Priya", "Wei", "Carlos", "Sofia", "Diego", "Mei", "Arjun", "Aisha", "Luis", "Hana", "Omar", "Yuki",
    "Mateo", "Fatima", "Andre", "Camila", "Kenji", "Lucia", "Rafael", "Ines",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Patel", "Chen", "Singh", "Wang", "Okafor", "Tanaka", "Kowalski", "Novak", "Schmidt", "Rossi",
    "Larsen", "Dubois", "Silva", "Haddad", "Yamamoto", "Osei", "Fischer", "Moreau", "Costa", "Berg",
)

CONTACT_TITLES = (
    "Marketing Manager", "Brand Manager", "Procurement Manager", "Purchasing Director", "Event Coordinator",
    "HR Director", "Office Manager", "VP Marketing", "Marketing Coordinator", "Director of Communications",
    "Executive Assistant", "Operations Manager", "Chief People Officer", "Community Relations Manager",
    "Trade Show Manager", "Employee Engagement Lead", "Merchandising Manager", "Sponsorship Manager",
)

# Well-known-sounding names (famous fictional companies and vendor sample names): (name, industry).
FAMOUS_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("Acme Corporation", "Manufacturing"), ("Globex Corporation", "Technology"), ("Initech", "Technology"),
    ("Umbrella Corporation", "Healthcare"), ("Stark Industries", "Manufacturing"),
    ("Wayne Enterprises", "Financial Services"), ("Wonka Industries", "Food & Beverage"),
    ("Cyberdyne Systems", "Technology"), ("Soylent Corp", "Food & Beverage"), ("Hooli", "Technology"),
    ("Pied Piper", "Technology"), ("Dunder Mifflin", "Retail"), ("Vandelay Industries", "Manufacturing"),
    ("Massive Dynamic", "Technology"), ("Oscorp", "Healthcare"), ("Tyrell Corporation", "Technology"),
    ("Weyland-Yutani", "Manufacturing"), ("Aperture Science", "Technology"),
    ("Black Mesa Research", "Education"), ("InGen", "Healthcare"), ("Nakatomi Trading", "Financial Services"),
    ("Oceanic Airlines", "Transportation"), ("Sterling Cooper", "Media & Entertainment"),
    ("Bluth Company", "Real Estate"), ("Prestige Worldwide", "Media & Entertainment"),
    ("Los Pollos Hermanos", "Food & Beverage"), ("Duff Brewing", "Food & Beverage"), ("Buy n Large", "Retail"),
    ("Spacely Sprockets", "Manufacturing"), ("Monsters Inc", "Energy"), ("Northwind Traders", "Retail"),
    ("Contoso", "Technology"), ("Fabrikam", "Manufacturing"), ("Tailspin Toys", "Retail"),
    ("Wide World Importers", "Transportation"), ("Adventure Works", "Retail"),
    ("Alpine Ski House", "Hospitality"), ("Coho Winery", "Food & Beverage"), ("Fourth Coffee", "Food & Beverage"),
    ("Woodgrove Bank", "Financial Services"), ("Humongous Insurance", "Financial Services"),
    ("Lucerne Publishing", "Media & Entertainment"), ("Trey Research", "Healthcare"), ("Litware", "Technology"),
    ("Proseware", "Technology"), ("Relecloud", "Technology"), ("Wingtip Toys", "Retail"),
    ("Margie's Travel", "Hospitality"), ("Blue Yonder Airlines", "Transportation"),
    ("Graphic Design Institute", "Education"), ("Southridge Video", "Media & Entertainment"),
    ("VanArsdel", "Manufacturing"), ("Bellows College", "Education"), ("Lamna Healthcare", "Healthcare"),
    ("Datum Corporation", "Technology"), ("Consolidated Messenger", "Transportation"),
    ("City Power & Light", "Energy"), ("Tailwind Traders", "Retail"), ("Munson's Pickles and Preserves",
                                                                     "Food & Beverage"),
)
DISNEY = ("Disney", "Media & Entertainment", "CA", "Burbank", "www.disney.com")

NAME_PREFIXES = (
    "Summit", "Harbor", "Cedar", "Blue Ridge", "Pioneer", "Granite", "Silver Lake", "Redwood", "Lakeshore",
    "Northstar", "Evergreen", "Ironwood", "Brightwater", "Atlas", "Keystone", "Beacon", "Crescent", "Falcon",
    "Liberty", "Meridian", "Orchard", "Prairie", "Quantum", "Riverbend", "Sterling", "Tidewater", "Vanguard",
    "Willow", "Aspen", "Bluebird", "Canyon", "Driftwood", "Foxhollow", "Highland", "Juniper", "Kingfisher",
    "Lighthouse", "Maple Grove", "Nova", "Oakmont", "Pinecrest", "Stonebridge", "Sunrise", "Trailhead",
    "Westbrook", "Copperline", "Bayside", "Everest", "Frontier", "Golden Plains", "Hawthorne", "Ironclad",
    "Lone Pine", "Magnolia", "Northgate", "Old Mill", "Palisade", "Red Rock", "Seaside", "Timberline",
    "Union Square", "Valley Forge", "Windward", "Arrowhead", "Bridgeport", "Clearwater", "Deer Creek",
    "Eastgate", "Fairview", "Greenfield", "Horizon", "Indigo", "Jasper", "Kestrel", "Larkspur", "Mosaic",
    "Neptune", "Obsidian", "Pacific Crest", "Quarry Hill", "Rosewood", "Saddleback", "Thornbury", "Upland",
)
# (noun, industry)
NAME_NOUNS: tuple[tuple[str, str], ...] = (
    ("Health", "Healthcare"), ("Medical Group", "Healthcare"), ("Dental Partners", "Healthcare"),
    ("Labs", "Healthcare"), ("Pharmaceuticals", "Healthcare"), ("Hospital", "Healthcare"),
    ("Logistics", "Transportation"), ("Freight", "Transportation"), ("Airlines", "Transportation"),
    ("Motors", "Transportation"), ("Software", "Technology"), ("Analytics", "Technology"),
    ("Systems", "Technology"), ("Technologies", "Technology"), ("Networks", "Technology"),
    ("Robotics", "Technology"), ("Credit Union", "Financial Services"), ("Bank", "Financial Services"),
    ("Capital", "Financial Services"), ("Insurance", "Financial Services"), ("Wealth Advisors", "Financial Services"),
    ("Brewing", "Food & Beverage"), ("Coffee Roasters", "Food & Beverage"), ("Foods", "Food & Beverage"),
    ("Bakery", "Food & Beverage"), ("Vineyards", "Food & Beverage"), ("Realty", "Real Estate"),
    ("Properties", "Real Estate"), ("Energy", "Energy"), ("Solar", "Energy"), ("Utilities", "Energy"),
    ("Academy", "Education"), ("University", "Education"), ("School District", "Education"),
    ("Hotels", "Hospitality"), ("Resorts", "Hospitality"), ("Hospitality", "Hospitality"),
    ("Outfitters", "Retail"), ("Markets", "Retail"), ("Supply", "Retail"), ("Home Goods", "Retail"),
    ("Marketing", "Media & Entertainment"), ("Media", "Media & Entertainment"), ("Studios", "Media & Entertainment"),
    ("Fitness", "Sports & Recreation"), ("Athletics", "Sports & Recreation"), ("Sports Club", "Sports & Recreation"),
    ("Construction", "Construction"), ("Builders", "Construction"), ("Engineering", "Construction"),
    ("Consulting", "Professional Services"), ("Partners", "Professional Services"), ("Law Group", "Professional Services"),
    ("Manufacturing", "Manufacturing"), ("Industries", "Manufacturing"), ("Aerospace", "Manufacturing"),
    ("Foundation", "Nonprofit"), ("Community Alliance", "Nonprofit"), ("County Services", "Government"),
    ("Transit Authority", "Government"),
)
LEGAL_SUFFIXES = ("", "", "", "", " Inc.", " Corp", " LLC", " Group", " Co.", " Holdings")
NETSUITE_ONLY_NAMES = (
    "Harborview Dental Group of Tacoma", "Kessler Family Foundation", "Tri-County Youth Soccer League",
)

INDUSTRY_ANNUAL_REVENUE = {  # median annual revenue in USD millions, per industry (for AnnualRevenue)
    "Technology": 400, "Healthcare": 350, "Financial Services": 500, "Education": 120, "Retail": 300,
    "Manufacturing": 450, "Hospitality": 200, "Media & Entertainment": 250, "Nonprofit": 30,
    "Government": 150, "Energy": 600, "Transportation": 350, "Food & Beverage": 180, "Real Estate": 120,
    "Sports & Recreation": 60, "Construction": 150, "Professional Services": 90,
}

# Product catalog. Category -> (SKU prefix, items at scale 1, demand share, quantity step, base products).
# Base product: (name, list price low, list price high, median quantity per order line).
CATEGORIES: dict[str, tuple[str, int, float, int, list[tuple[str, float, float, int]]]] = {
    "Hats": ("HAT", 55, 0.15, 12, [
        ("Baseball Cap", 9, 20, 96), ("Trucker Hat", 10, 18, 96), ("Knit Beanie", 8, 16, 120),
        ("Bucket Hat", 14, 24, 72), ("Sun Visor", 8, 14, 96), ("Snapback Cap", 14, 26, 72),
        ("Performance Golf Cap", 20, 32, 48), ("Fitted Wool Cap", 28, 42, 48),
        ("Premium Leather-Patch Cap", 56, 66, 48),
    ]),
    "Apparel": ("APP", 70, 0.22, 12, [
        ("Cotton T-Shirt", 6, 14, 144), ("Performance Polo", 18, 34, 60), ("Pullover Hoodie", 22, 45, 60),
        ("Quarter-Zip Pullover", 28, 55, 48), ("Fleece Vest", 26, 48, 48), ("Softshell Jacket", 40, 85, 36),
        ("Oxford Dress Shirt", 24, 42, 48), ("Crewneck Sweatshirt", 18, 35, 72), ("Long Sleeve Tee", 9, 18, 120),
    ]),
    "Drinkware": ("DRK", 60, 0.18, 24, [
        ("20 oz Insulated Tumbler", 14, 28, 100), ("32 oz Water Bottle", 12, 26, 100),
        ("11 oz Ceramic Mug", 4, 9, 144), ("16 oz Pint Glass", 4, 8, 144), ("Travel Mug", 10, 20, 96),
        ("Stemless Wine Tumbler", 12, 22, 72), ("Glass Water Bottle", 10, 18, 96),
        ("Coffee Tumbler with Handle", 16, 30, 72),
    ]),
    "Bags": ("BAG", 50, 0.11, 25, [
        ("Cotton Tote", 3, 8, 200), ("Laptop Backpack", 28, 60, 50), ("Duffel Bag", 24, 48, 40),
        ("Drawstring Bag", 2, 6, 250), ("Insulated Cooler Bag", 12, 26, 75), ("Messenger Bag", 22, 40, 50),
        ("Tech Organizer Pouch", 9, 18, 100),
    ]),
    "Office": ("OFF", 50, 0.14, 50, [
        ("Ballpoint Pen", 0.6, 2.5, 1000), ("Stylus Pen", 1.5, 4.0, 500), ("Hardcover Journal", 8, 18, 150),
        ("Spiral Notebook", 3, 7, 250), ("Sticky Note Pad", 1.5, 3.5, 500), ("Mouse Pad", 4, 9, 200),
        ("Desk Calendar", 5, 11, 250), ("Lanyard", 1.2, 3.5, 500), ("Badge Holder", 1.0, 3.0, 500),
        ("Desk Organizer", 12, 28, 75),
    ]),
    "Tech Accessories": ("TEC", 45, 0.09, 25, [
        ("Power Bank 5000mAh", 12, 22, 50), ("Wireless Charging Pad", 14, 26, 50),
        ("USB-C Flash Drive 32GB", 6, 12, 100), ("Bluetooth Speaker", 22, 45, 36), ("Wireless Earbuds", 28, 55, 36),
        ("Phone Stand", 4, 9, 150), ("Webcam Cover 3-Pack", 2, 4, 250), ("Cable Organizer Kit", 8, 15, 75),
        ("3-in-1 Charging Cable", 5, 10, 120),
    ]),
    "Outdoor": ("OUT", 40, 0.07, 10, [
        ("Golf Umbrella", 14, 30, 72), ("Folding Camp Chair", 22, 45, 36), ("Fleece Blanket", 12, 26, 72),
        ("Picnic Blanket", 18, 35, 48), ("Golf Balls 3-Pack", 8, 16, 120), ("Golf Towel", 6, 12, 120),
        ("Sunglasses", 2, 6, 250), ("Flying Disc", 2, 5, 250),
    ]),
    "Trade Show": ("TSH", 30, 0.04, 1, [
        ("10 ft Pop-Up Display", 900, 1800, 1), ("Table Throw", 120, 260, 2),
        ("Retractable Banner Stand", 180, 420, 2), ("10x10 Event Tent", 700, 1500, 1),
        ("Feather Flag", 140, 280, 3), ("Counter Display", 350, 800, 1),
    ]),
}
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
VARIANTS: dict[str, tuple[str, ...]] = {
    "Hats": ("Classic", "Structured", "Unstructured", "Embroidered", "Heather", "Two-Tone", "Eco Recycled",
             "Vintage Wash", "Youth", "Camo"),
    "Apparel": ("Classic", "Ladies'", "Unisex", "Heather", "Eco Recycled", "Tri-Blend", "Moisture-Wicking",
                "Heavyweight", "Tall", "Youth"),
    "Drinkware": ("Classic", "Matte", "Powder-Coated", "Two-Tone", "Eco", "Laser-Engraved", "Speckled",
                  "Frosted", "Stainless", "Color-Dipped"),
    "Bags": ("Classic", "Eco Recycled", "Heavy Canvas", "Ripstop", "Two-Tone", "Deluxe", "Compact",
             "Water-Resistant", "Heathered"),
    "Office": ("Classic", "Eco", "Metal", "Soft-Touch", "Bamboo", "Recycled", "Executive", "Compact",
               "Full-Color"),
    "Tech Accessories": ("Classic", "Slim", "Bamboo", "Rubberized", "Metallic", "Eco", "Travel", "Pro",
                         "Compact"),
    "Outdoor": ("Classic", "Deluxe", "Eco", "Heavy-Duty", "Compact", "Two-Tone", "Premium", "Travel"),
    "Trade Show": ("Standard", "Premium", "Full-Color", "Double-Sided", "Deluxe", "Economy"),
}
ITEM_DESCRIPTIONS: dict[str, str] = {
    "Hats": "Custom-decorated headwear, embroidery or patch, 24-piece minimum.",
    "Apparel": "Branded apparel with screen print or embroidery, mixed sizes.",
    "Drinkware": "Branded drinkware, laser engraving or full-color print.",
    "Bags": "Branded bags and totes, one-color imprint included.",
    "Office": "Desk and office essentials with one-color imprint.",
    "Tech Accessories": "Branded tech accessories, full-color imprint.",
    "Outdoor": "Outdoor and leisure items with custom imprint.",
    "Trade Show": "Trade show display, full-color dye-sublimation graphics.",
}

OPPORTUNITY_PURPOSES = (
    "Holiday Gifts", "Trade Show Kit", "Onboarding Kits", "Summer Event", "Conference Swag", "Team Apparel",
    "Customer Appreciation", "Sales Kickoff", "Brand Refresh", "Charity Run", "Reorder", "Anniversary Gifts",
    "Retail Launch", "Field Day", "Wellness Program", "Recruiting Fair", "Partner Summit", "Volunteer Day",
)
NEXT_STEPS = (
    "Send revised quote", "Confirm decoration specs", "Sample approval", "Legal review of terms",
    "Awaiting PO", "Schedule kickoff call", "Artwork proof review", "Confirm delivery date",
    "Present mockups", "Budget approval from finance",
)
TASK_SUBJECTS = {
    "Call": ("Call: discuss quantities", "Call: follow up on quote", "Call: check on artwork",
             "Call: reorder check-in", "Call: budget for next quarter", "Intro call"),
    "Email": ("Email: quote sent", "Email: artwork proof", "Email: sample tracking", "Email: revised pricing",
              "Email: order confirmation", "Email: catalog for next season"),
    "Task": ("Prepare quote", "Send samples", "Update decoration specs", "Request PO", "Prepare mockups",
             "Check inventory for order", "Follow up"),
}
EVENT_SUBJECTS = (
    "Product sample review", "Quarterly business review", "Artwork proof meeting", "Trade show planning",
    "Lunch meeting", "New drinkware line demo", "Kickoff meeting", "Showroom visit", "Holiday program planning",
)
EVENT_LOCATIONS = ("Zoom", "Microsoft Teams", "Customer office", "Our showroom", "Phone", "Google Meet")
ORDER_MEMOS = (
    "Reorder", "Holiday gifts", "Conference swag", "Employee onboarding kits", "Rush - event date fixed",
    "Trade show booth", "Customer appreciation", "Split shipment OK",
)
PAYMENT_TERMS = (("Net 30", 30, 0.62), ("Net 45", 45, 0.12), ("Net 60", 60, 0.08), ("Net 15", 15, 0.1),
                 ("Due on receipt", 0, 0.08))
