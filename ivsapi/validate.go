package ivsapi

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Patterns from the IVS Chat model, anchored as the service applies them.
var (
	roomARN      = regexp.MustCompile(`^arn:aws:ivschat:[a-z0-9-]+:[0-9]+:room/[a-zA-Z0-9-]+$`)
	configARN    = regexp.MustCompile(`^arn:aws:ivschat:[a-z0-9-]+:[0-9]+:logging-configuration/[a-zA-Z0-9-]+$`)
	resourceARN  = regexp.MustCompile(`^arn:aws:ivschat:[a-z0-9-]+:[0-9]+:(room|logging-configuration)/[a-zA-Z0-9-]+$`)
	namePattern  = regexp.MustCompile(`^[a-zA-Z0-9-_]*$`)
	lambdaARN    = regexp.MustCompile(`^$|^arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:function:.+`)
	messageID    = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	s3Bucket     = regexp.MustCompile(`^[a-z0-9-.]+$`)
	logGroup     = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	deliveryName = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
)

// checker collects every constraint a request breaks, as AWS reports them
// all in fieldList.
type checker struct{ fields []parley.FieldError }

func (c *checker) fail(name, format string, args ...any) {
	c.fields = append(c.fields, parley.FieldError{Name: name, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	msgs := make([]string, len(c.fields))
	for i, f := range c.fields {
		msgs[i] = f.Name + ": " + f.Message
	}
	return &parley.Error{Kind: parley.KindInvalid, Message: strings.Join(msgs, "; "), Fields: c.fields}
}

func (c *checker) required(name string, present bool) bool {
	if !present {
		c.fail(name, "is required")
	}
	return present
}

// length checks a string's length in code points and, if re is set, its pattern.
func (c *checker) length(name, v string, min, max int, re *regexp.Regexp) bool {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		c.fail(name, "must be valid UTF-8")
	case n < min:
		c.fail(name, "must have length greater than or equal to %d", min)
	case n > max:
		c.fail(name, "must have length less than or equal to %d", max)
	case re != nil && !re.MatchString(v):
		c.fail(name, "must satisfy pattern %s", re.String())
	default:
		return true
	}
	return false
}

func (c *checker) optLength(name string, v *string, min, max int, re *regexp.Regexp) {
	if v != nil {
		c.length(name, *v, min, max, re)
	}
}

func (c *checker) intRange(name string, v *int, min, max int) {
	if v != nil && (*v < min || *v > max) {
		c.fail(name, "must be between %d and %d", min, max)
	}
}

// arn checks an identifier and parses it.
func (c *checker) arn(name string, v *string, re *regexp.Regexp) parley.ParsedARN {
	if !c.required(name, v != nil) || !c.length(name, *v, 1, 128, re) {
		return parley.ParsedARN{}
	}
	p, _ := parley.ParseARN(*v)
	return p
}

// tags checks a tag map: at most 50 tags, keys 1-128 and not aws:-prefixed, values 0-256.
func (c *checker) tags(name string, tags map[string]string) {
	if len(tags) > parley.MaxTagsPerResource {
		c.fail(name, "must have at most %d tags", parley.MaxTagsPerResource)
		return
	}
	for k, v := range tags {
		if !c.length(name, k, 1, 128, nil) || !c.length(name, v, 0, 256, nil) {
			return
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			c.fail(name, "tag keys must not begin with aws:")
			return
		}
	}
}

// attributes checks a string map's total size: at most 1 KB of keys and values in UTF-8.
func (c *checker) attributes(name string, attrs map[string]string) {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	if n > 1024 {
		c.fail(name, "must not exceed 1 KB in total")
	}
}

// reviewHandler checks a messageReviewHandler member.
func (c *checker) reviewHandler(h *reviewHandlerJSON) {
	if h == nil {
		return
	}
	if h.URI != nil {
		c.length("messageReviewHandler.uri", *h.URI, 0, 170, lambdaARN)
	}
	if h.FallbackResult != nil && *h.FallbackResult != string(parley.ReviewAllow) && *h.FallbackResult != string(parley.ReviewDeny) {
		c.fail("messageReviewHandler.fallbackResult", "must be one of ALLOW, DENY")
	}
}

// configList checks loggingConfigurationIdentifiers.
func (c *checker) configList(ids []string) []parley.ParsedARN {
	if len(ids) > parley.MaxLoggingConfigsPerRoom {
		c.fail("loggingConfigurationIdentifiers", "must have at most %d items", parley.MaxLoggingConfigsPerRoom)
		return nil
	}
	out := make([]parley.ParsedARN, 0, len(ids))
	for _, id := range ids {
		if c.length("loggingConfigurationIdentifiers", id, 1, 128, configARN) {
			p, _ := parley.ParseARN(id)
			out = append(out, p)
		}
	}
	return out
}

// destination checks the destinationConfiguration union: exactly one member.
func (c *checker) destination(d *destinationJSON) parley.Destination {
	const name = "destinationConfiguration"
	var out parley.Destination
	n := 0
	if d.S3 != nil {
		n++
		if c.required(name+".s3.bucketName", d.S3.BucketName != nil) {
			c.length(name+".s3.bucketName", *d.S3.BucketName, 3, 63, s3Bucket)
			out.S3Bucket = *d.S3.BucketName
		}
	}
	if d.CloudWatchLogs != nil {
		n++
		if c.required(name+".cloudWatchLogs.logGroupName", d.CloudWatchLogs.LogGroupName != nil) {
			c.length(name+".cloudWatchLogs.logGroupName", *d.CloudWatchLogs.LogGroupName, 1, 512, logGroup)
			out.CloudWatchLogGroup = *d.CloudWatchLogs.LogGroupName
		}
	}
	if d.Firehose != nil {
		n++
		if c.required(name+".firehose.deliveryStreamName", d.Firehose.DeliveryStreamName != nil) {
			c.length(name+".firehose.deliveryStreamName", *d.Firehose.DeliveryStreamName, 1, 64, deliveryName)
			out.FirehoseStream = *d.Firehose.DeliveryStreamName
		}
	}
	if n != 1 {
		c.fail(name, "must have exactly one of s3, cloudWatchLogs, firehose")
	}
	return out
}
