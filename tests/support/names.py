"""The API paths and demo names the tests of several folders use: one place, so no test imports
another folder's conftest or test module for a constant."""
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
POQ = "/tmf-api/productOfferingQualification/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"
ORDERING = "/tmf-api/productOrderingManagement/v4"
ORDERS = f"{ORDERING}/productOrder"
CANCELS = f"{ORDERING}/cancelProductOrder"
STOCKS = "/tmf-api/stockManagement/v4"
STOCK = f"{STOCKS}/productStock"
PRODUCTS = "/tmf-api/productInventory/v4/product"
CAMPAIGNS = "/tmf-api/campaignManagement/v4/campaign"
RECOMMEND = "/tmf-api/recommendationManagement/v4/queryProductRecommendation"

# demo data (chalicelib/*/demo.py)
CENTRAL = "po-phone-x--central-warehouse"           # Phone X's stock in the central warehouse
ANDREA_MOBILE, ANDREA_EMAIL, STACY_MOBILE = "+447700900123", "andrea.rossi@example.com", "+447700900456"
