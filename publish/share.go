package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// statementPrefix starts the StatementId of every permission layers adds;
// statements with other ids are someone else's and left alone.
const statementPrefix = "layers-share-"

// grant is one AddLayerVersionPermission.
type grant struct {
	StatementID  string
	Principal    string
	Organization string
}

// grantFor turns a [publish] share_with entry (validated by config) into
// its permission. The statement id depends on the principal only, so a
// rerun finds its own statements.
func grantFor(who string) grant {
	switch {
	case who == "*":
		return grant{StatementID: statementPrefix + "all", Principal: "*"}
	case strings.HasPrefix(who, "o-"):
		return grant{StatementID: statementPrefix + who, Principal: "*", Organization: who}
	default:
		return grant{StatementID: statementPrefix + who, Principal: who}
	}
}

// policyStatements returns the statement ids of a layer version's policy.
func policyStatements(ctx context.Context, lc Lambda, name string, v int64) ([]string, error) {
	out, err := lc.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, nil // no policy yet
	}
	if err != nil {
		return nil, fmt.Errorf("get policy of layer %s version %d: %w", name, v, err)
	}
	var doc struct {
		Statement []struct {
			Sid string
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		return nil, fmt.Errorf("policy of layer %s version %d: %w", name, v, err)
	}
	var ids []string
	for _, s := range doc.Statement {
		ids = append(ids, s.Sid)
	}
	return ids, nil
}

// share makes the layers statements on version v of layer name exactly
// shareWith: it adds the missing ones and removes layers' statements for
// principals no longer listed. It returns how many it added and removed.
//
// AddLayerVersionPermission goes through retryChecked: a retried add whose
// first answer was lost is a conflict on AWS, but a second statement with
// the same id on emulators that do not check.
func share(ctx context.Context, lc Lambda, policy aws.RetryerV2, name string, v int64, shareWith []string) (added, removed int, err error) {
	have, err := policyStatements(ctx, lc, name, v)
	if err != nil {
		return 0, 0, err
	}
	want := map[string]bool{}
	for _, who := range shareWith {
		g := grantFor(who)
		want[g.StatementID] = true
		if slices.Contains(have, g.StatementID) {
			continue
		}
		in := &lambda.AddLayerVersionPermissionInput{
			LayerName: aws.String(name), VersionNumber: aws.Int64(v),
			StatementId: aws.String(g.StatementID), Action: aws.String("lambda:GetLayerVersion"),
			Principal: aws.String(g.Principal),
		}
		if g.Organization != "" {
			in.OrganizationId = aws.String(g.Organization)
		}
		err := retryChecked(ctx, policy,
			func() error {
				_, err := lc.AddLayerVersionPermission(ctx, in, once)
				return err
			},
			func() (bool, error) {
				ids, err := policyStatements(ctx, lc, name, v)
				return slices.Contains(ids, g.StatementID), err
			})
		var conflict *types.ResourceConflictException
		if errors.As(err, &conflict) {
			continue // added by a concurrent run, or a retried call that had worked
		}
		if err != nil {
			return added, removed, fmt.Errorf("share layer %s version %d with %s: %w", name, v, who, err)
		}
		added++
	}
	for _, id := range have {
		if !strings.HasPrefix(id, statementPrefix) || want[id] {
			continue
		}
		_, err := lc.RemoveLayerVersionPermission(ctx, &lambda.RemoveLayerVersionPermissionInput{
			LayerName: aws.String(name), VersionNumber: aws.Int64(v), StatementId: aws.String(id),
		})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return added, removed, fmt.Errorf("unshare layer %s version %d (%s): %w", name, v, id, err)
		}
		removed++
	}
	return added, removed, nil
}
