// The commented starter credits.yaml that `credits init` writes.
export const starterConfig = (
  accountId = 'acme',
  accountName = 'Acme Corp',
  schemaPath = './node_modules/credits/schema/credits.schema.json',
): string => `# yaml-language-server: $schema=${schemaPath}
# credits.yaml: who may spend how many AI-usage credits, per cycle. Review changes in pull requests;
# \`credits plan\` shows what would change, \`credits apply\` makes it so. Reference: docs/yaml-reference.md
version: 1
account:
  id: ${accountId}                    # slug, the tenant key; never change it
  name: ${accountName}
  creditLimit: 100000         # credits per cycle for the whole account
  cycle:
    cadence: calendar-month   # calendar-month | 15d | 1w | 1d | <N>h | <N>m
    timezone: UTC             # IANA name; cycle boundaries are computed in it
  creditFactor: 1000          # credits per $1 of cost; 0 = tracking off
  signupCredits: 50           # one-time credits per new user; 0 = off
groups:
  engineering:                # group key: slug, stable identity
    name: Engineering
    allocation: 40000         # credits per cycle ("Monthly")
    extra: 5000               # additional budget
    autoApprove: 2000         # reserve for requests approved without a human; 0 = all manual
    members:
      alice@${accountId}.com: 5000              # individual allocation
      bob@${accountId}.com: { allocation: 3000, extra: 500 }
      carol@${accountId}.com: {}                # draws from the group pool
  default:                    # the system Default group: everyone not placed elsewhere
    allocation: 10000
`;
