package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"replenish"
	"replenish/console"
	"replenish/storage/sqldb"
	"replenish/users"
)

const userAbout = `Manages the users who sign in to the console's web pages.

  replenish user add --email jo@example.com --role operator
  replenish user add --email ann@acme.example --role vendor --vendor acme
  replenish user add --email kim@example.com --role customer --customer cu-...

The password is read from REPLENISH_PASSWORD or, when that is empty, from
the first line of standard input (echo ... | replenish user add ...), so
that it never appears in the command line or the shell's history. At least
10 characters. Vendor users belong to an existing vendor; the operator can
also add them on the console's Vendors page. Customers sign up on the
customer pages themselves; --role customer gives a customer made through
the API (or a second person of a household) a sign-in to those pages. On a new database this
creates it, like the first start of serve, and prints the operator's API
key once.
`

// userCommand runs "replenish user <subcommand>"; the only one is add.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", userAbout, stderr)
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && strings.Contains(args[0], "help") {
			fs.Usage()
			return errHelp
		}
		fs.Usage()
		return errors.New(`the user command takes "add": replenish user add --email ... --role operator`)
	}
	var db, email, role, vendorCode, customerID string
	fs.StringVar(&db, "db", "replenish.db", "the database: a SQLite `file` or a postgres:// URL")
	fs.StringVar(&email, "email", "", "the user's e-mail `address`, used to sign in")
	fs.StringVar(&role, "role", "operator", "`operator`, vendor or customer")
	fs.StringVar(&vendorCode, "vendor", "", "the vendor `code` of a vendor user")
	fs.StringVar(&customerID, "customer", "", "the customer `ID` (cu-...) of a customer user")
	fs.String("password", "", "the `password` (prefer REPLENISH_PASSWORD or standard input: a flag shows in the process list)")
	if err := parse(fs, args[1:], getenv); err != nil {
		return err
	}
	password := fs.Lookup("password").Value.String()
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		return errors.New("no password: set REPLENISH_PASSWORD or give it on standard input")
	}

	store, err := sqldb.Open(ctx, db)
	if err != nil {
		return err
	}
	defer store.Close()
	now := func() time.Time { return time.Now().UTC() }
	if key, err := console.New(store, now).Bootstrap(ctx, ""); err != nil {
		return fmt.Errorf("first start: %w", err)
	} else if key != "" {
		fmt.Fprintf(stdout, "Created the operator. Its API key, shown this once:\n\n    %s\n\n", key)
	}
	u, err := users.New(store, now).Create(ctx, users.NewUser{Email: email, Password: password,
		Role: replenish.Role(role), VendorCode: vendorCode, CustomerID: customerID})
	var re *replenish.Error
	if errors.As(err, &re) && len(re.Fields) > 0 {
		// Name the flags, not the fields, since that is what was typed.
		var msgs []string
		for _, f := range [][2]string{{"email", "email"}, {"password", "password"}, {"role", "role"}, {"vendorCode", "vendor"}, {"customerId", "customer"}} {
			if p, ok := re.Fields[f[0]]; ok {
				msgs = append(msgs, "--"+f[1]+": "+p)
			}
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if err != nil {
		return err
	}
	who := string(u.Role)
	if u.VendorCode != "" {
		who += " of " + u.VendorCode
	}
	where := "/console/sign-in"
	if u.CustomerID != "" {
		who += " " + u.CustomerID
		where = "/account/sign-in"
	}
	fmt.Fprintf(stdout, "Added %s (%s). Sign in at <base URL>%s.\n", u.Email, who, where)
	return nil
}
