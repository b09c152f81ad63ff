namespace Lepton.Audit;

/// <summary>The actions the audit chain records. Readers (verification, the console, auditors' scripts) match on these names.</summary>
public static class AuditActions
{
    public const string TenantCreated = "tenant.created";
    public const string TenantDisabled = "tenant.disabled";
    public const string TenantEnabled = "tenant.enabled";
    public const string KeyIssued = "key.issued";
    public const string KeyRevoked = "key.revoked";
    public const string GrantCreated = "grant.created";
    public const string GrantRevoked = "grant.revoked";
    public const string DataUse = "data.use";
    public const string DatasetPublished = "dataset.published";
    public const string TrainingStarted = "training.started";
    public const string ModelRegistered = "model.registered";
    public const string ModelGrantRevoked = "model.grant-revoked";
    public const string PredictionUsage = "prediction.usage";
    public const string CollaborationProposed = "collaboration.proposed";
    public const string CollaborationAccepted = "collaboration.accepted";
    public const string CollaborationTermsChanged = "collaboration.terms-changed";
    public const string CollaborationLeft = "collaboration.left";
    public const string CollaborationSettled = "collaboration.settled";
    public const string ContributionStarted = "contribution.started";
    public const string ContributionReported = "contribution.reported";
    public const string TreeHeadWitnessed = "audit.head-witnessed";
}
