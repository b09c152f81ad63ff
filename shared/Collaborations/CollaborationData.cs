using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Security;
using Lepton.Training;

namespace Lepton.Collaborations;

/// <summary>One member's contribution as the data report shows it: metadata only, never rows.</summary>
public sealed record MemberDataReport(
    string Member,
    bool Accepted,
    IReadOnlyList<ContributedDataset> Datasets,
    long Rows,
    IReadOnlyList<ColumnSchema>? Schema,
    bool Compatible,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> MissingFeatures);

public sealed record TypeConflict(string Column, IReadOnlyDictionary<string, string> KindByMember);

/// <summary>GET /api/collaborations/{c}/data: per member what it contributed and whether it fits the agreed task.</summary>
public sealed record DataReport(
    string Collaboration,
    string State,
    string Label,
    string? Task,
    string? Metric,
    IReadOnlyList<string> SharedFeatures,
    IReadOnlyList<TypeConflict> TypeConflicts,
    IReadOnlyList<MemberDataReport> Members,
    bool ReadyToTrain,
    IReadOnlyList<string> Problems);

/// <summary>
/// What members contributed to a collaboration and whether it fits together, computed from grants, the catalog and the
/// curated schemas — before any training and without reading a row.
/// </summary>
public sealed class CollaborationData(GrantStore grants, DatasetCatalog catalog, DatasetQueries datasets)
{
    public async Task<DataReport> ReportAsync(Collaboration c, CancellationToken ct = default)
    {
        var members = new List<(string Member, bool Accepted, List<ContributedDataset> Datasets, DatasetSchema? Schema, List<string> Problems)>();
        foreach (CollaborationMember m in c.Members.Where(m => m.LeftAt is null))
        {
            var problems = new List<string>();
            var contributed = new List<ContributedDataset>();
            DatasetSchema? schema = null;
            foreach (IGrouping<string, Grant> byDataset in (await grants.ListActiveForCollaborationAsync(m.Tenant, c.Id, ct)).GroupBy(g => g.Dataset))
            {
                Grant grant = byDataset.Last();
                IReadOnlyList<DatasetVersionRecord> versions = await catalog.ListVersionsAsync(m.Tenant, grant.Dataset, ct);
                if (versions.Count == 0)
                {
                    problems.Add($"dataset '{grant.Dataset}' has no published version");
                    continue;
                }

                DatasetVersionRecord latest = versions[^1];
                DatasetSchema current = await datasets.ReadSchemaAsync(m.Tenant, grant.Dataset, latest.Version, ct);
                if (schema is not null && !SameColumns(schema, current))
                {
                    problems.Add($"dataset '{grant.Dataset}' has other columns than '{contributed[0].Dataset}'; a member's datasets must share one schema");
                    continue;
                }

                schema ??= current;
                contributed.Add(new ContributedDataset(grant.Dataset, latest.Version, latest.DataBlob, latest.Rows, latest.SourceSha256, grant.GrantId,
                    grant.Purposes, grant.RevokeModels));
            }

            members.Add((m.Tenant, m.AcceptedAt is not null, contributed, schema, problems));
        }

        var contributing = members.Where(m => m.Schema is not null).ToList();
        string label = c.Task.Label;
        string? task = c.Task.Type ?? contributing.Select(m => m.Schema!.Columns.FirstOrDefault(col => col.Name == label)?.Kind)
            .FirstOrDefault(k => k is not null) switch
        {
            ColumnKind.Boolean => MlTasks.Binary,
            ColumnKind.Numeric => MlTasks.Regression,
            ColumnKind.Categorical => MlTasks.Multiclass,
            _ => null,
        };

        foreach (var m in contributing)
        {
            ColumnSchema? labelColumn = m.Schema!.Columns.FirstOrDefault(col => col.Name == label);
            long rows = m.Datasets.Sum(d => d.Rows);
            if (labelColumn is null)
            {
                m.Problems.Add($"the label '{label}' is not in its data (columns: {string.Join(", ", m.Schema.Columns.Select(col => col.Name).Take(20))})");
            }
            else if (task is not null && !LabelFits(task, labelColumn.Kind))
            {
                m.Problems.Add($"the label '{label}' is {labelColumn.Kind.ToString().ToLowerInvariant()}, which does not fit a {task} task");
            }

            if (rows < c.Terms.MinRowsPerMember)
            {
                m.Problems.Add($"{rows} rows, fewer than the agreed minimum of {c.Terms.MinRowsPerMember}");
            }
        }

        // Features: columns every member with the label has, of one kind everywhere; a column of two kinds is a conflict.
        var labelled = contributing.Where(m => m.Schema!.Columns.Any(col => col.Name == label)).ToList();
        ColumnKind? agreedLabel = labelled.Select(m => m.Schema!.Columns.First(col => col.Name == label).Kind).FirstOrDefault();
        foreach (var m in labelled.Where(m => m.Schema!.Columns.First(col => col.Name == label).Kind != agreedLabel))
        {
            m.Problems.Add($"the label '{label}' is {m.Schema!.Columns.First(col => col.Name == label).Kind.ToString().ToLowerInvariant()} here but "
                + $"{agreedLabel.ToString()!.ToLowerInvariant()} at {labelled[0].Member}; the members must label alike");
        }

        var kinds = labelled.SelectMany(m => Candidates(m.Schema!, label).Select(col => (m.Member, col.Name, col.Kind)))
            .GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.ToList());
        var conflicts = kinds.Where(k => k.Value.Select(x => x.Kind).Distinct().Count() > 1)
            .Select(k => new TypeConflict(k.Key, k.Value.ToDictionary(x => x.Member, x => x.Kind.ToString().ToLowerInvariant()))).ToList();
        List<string> shared = labelled.Count == 0 ? [] : Candidates(labelled[0].Schema!, label).Select(col => col.Name)
            .Where(name => conflicts.All(x => x.Column != name) && kinds[name].Count == labelled.Count).ToList();
        var union = kinds.Keys.Where(name => conflicts.All(x => x.Column != name)).ToHashSet();

        var reports = members.Select(m =>
        {
            IReadOnlyList<string> missing = m.Schema is null ? [] : union.Except(Candidates(m.Schema, label).Select(col => col.Name)).Order(StringComparer.Ordinal).ToList();
            return new MemberDataReport(m.Member, m.Accepted, m.Datasets, m.Datasets.Sum(d => d.Rows), m.Schema?.Columns,
                m.Schema is not null && m.Problems.Count == 0, m.Problems, missing);
        }).ToList();

        var blockers = new List<string>();
        if (c.State != CollaborationStates.Active)
        {
            blockers.Add($"the collaboration is {c.State}" + (c.AwaitingAcceptance.Count > 0 ? $"; waiting for {string.Join(", ", c.AwaitingAcceptance)} to accept" : ""));
        }

        if (reports.Count(r => r.Datasets.Count > 0) < 2)
        {
            blockers.Add("fewer than two members contribute data (grant the collaboration 'train' on a dataset)");
        }

        blockers.AddRange(reports.Where(r => r.Datasets.Count > 0 && !r.Compatible).Select(r => $"{r.Member}: {string.Join("; ", r.Problems)}"));
        if (task is null)
        {
            blockers.Add("the task type is not agreed and cannot be inferred from the label");
        }

        if (labelled.Count > 0 && shared.Count == 0)
        {
            blockers.Add("the members share no feature column");
        }

        return new DataReport(c.Id, c.State, label, task, c.Task.Metric ?? (task is null ? null : TaskMetrics.DefaultMetric(task)),
            shared, conflicts, reports, blockers.Count == 0, blockers);
    }

    /// <summary>The report, or a 409 that says what stands between the collaboration and training.</summary>
    public async Task<DataReport> RequireReadyAsync(Collaboration c, CancellationToken ct = default)
    {
        DataReport report = await ReportAsync(c, ct);
        return report.ReadyToTrain
            ? report
            : throw LeptonException.Conflict($"The collaboration cannot train yet: {string.Join("; ", report.Problems)}. See GET /api/collaborations/{c.Id}/data.");
    }

    private static IEnumerable<ColumnSchema> Candidates(DatasetSchema schema, string label) =>
        schema.Columns.Where(col => col.Name != label && col.Kind is ColumnKind.Numeric or ColumnKind.Boolean or ColumnKind.Categorical);

    private static bool SameColumns(DatasetSchema a, DatasetSchema b) =>
        a.Columns.Select(col => (col.Name, col.Kind)).SequenceEqual(b.Columns.Select(col => (col.Name, col.Kind)));

    private static bool LabelFits(string task, ColumnKind kind) => task switch
    {
        MlTasks.Regression => kind == ColumnKind.Numeric,
        _ => kind is ColumnKind.Boolean or ColumnKind.Numeric or ColumnKind.Categorical,
    };
}
