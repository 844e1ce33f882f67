package replenish

import "time"

// User is a person who signs in to the web pages: the operator's staff or
// a vendor's. Customers will sign in as users too (with CustomerID set).
type User struct {
	UserID     string    `json:"userId"`
	Email      string    `json:"email"`
	Role       Role      `json:"role"`
	VendorCode string    `json:"vendorCode,omitempty"` // for RoleVendor
	CustomerID string    `json:"customerId,omitempty"` // for RoleCustomer
	CreatedAt  time.Time `json:"createdAt"`
}

// Principal is what the user may do: the same as an API key of its role,
// named by the user's e-mail in the audit log.
func (u User) Principal() Principal {
	return Principal{Role: u.Role, VendorCode: u.VendorCode, CustomerID: u.CustomerID, Name: u.Email}
}
