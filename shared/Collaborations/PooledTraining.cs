using Lepton.Audit;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Collaborations;

/// <summary>
/// The data side of a pooled collaboration run: plans the union of the members' granted dataset versions with a fixed
/// per-member evaluation set, and hands the training activities their local files — each time through the members'
/// grants, so a grant revoked mid-run stops the next activity that reads.
/// </summary>
public sealed class PooledTraining(CollaborationStore collaborations, CollaborationData data, CollaborationRows rows, AuditLog audit)
{
    public const int Seed = TrainingService.Seed;

    public async Task<TrainingPlan> PrepareAsync(TrainRequest request, CancellationToken ct = default)
    {
        Collaboration c = await collaborations.FindAsync(request.Collaboration!, ct) ?? throw LeptonException.NotFound("No such resource.");
        if (c.Mode != CollaborationModes.Pooled)
        {
            throw LeptonException.BadRequest($"Collaboration '{c.Id}' trains {c.Mode}; only pooled training is available.");
        }

        DataReport report = await data.RequireReadyAsync(c, ct);
        string task = report.Task!, label = report.Label, metric = report.Metric!;
        bool stratify = task != MlTasks.Regression;
        var members = new List<MemberPlan>();
        var files = new List<MemberFiles>();
        foreach (MemberDataReport member in report.Members.Where(m => m.Datasets.Count > 0))
        {
            MemberFiles f = await rows.MemberFilesAsync(c.Id, request.RunId, member.Member, member.Datasets, report.SharedFeatures, label, stratify,
                c.Terms.EvaluationFraction, Seed, train: true, evaluate: true, ct);
            files.Add(f);
            members.Add(new MemberPlan(member.Member, member.Datasets, f.TrainRows, f.EvaluationRows));
        }

        if (members.All(m => m.EvaluationRows == 0))
        {
            throw LeptonException.Conflict("No member granted 'evaluate': the collaboration has no evaluation set to judge models and contributions on.");
        }

        DatasetSchema first = report.Members.First(m => m.Schema is not null && m.Compatible).Schema is { } columns
            ? new DatasetSchema(columns, label, task)
            : throw LeptonException.Conflict("No member's data fits the agreed task.");
        var schema = new DatasetSchema(
            report.SharedFeatures.Select(f => first.Columns.First(col => col.Name == f) with { IsLabel = false })
                .Append(first.Columns.First(col => col.Name == label) with { IsLabel = true }).ToList(), label, task);

        string pooled = await TrainFileAsync(files, report.SharedFeatures, label, ct);
        List<string> labels = FoldSplitter.ReadColumn(pooled, label);
        List<string> evaluationLabels = files.SelectMany(f => FoldSplitter.ReadColumn(f.EvaluationFile, label)).ToList();
        FoldSplitter.Validate(labels, request.Folds, task, label);
        IReadOnlyList<string> classes = task == MlTasks.Regression ? [] : labels.Concat(evaluationLabels).Distinct().Order(StringComparer.Ordinal).ToList();
        var plan = new TrainingPlan(request, [], schema, label, task, metric, request.Folds, Seed, labels.Count,
            CandidateCatalog.Plan(task, request.Candidates),
            new CollaborationPlan(c.Id, members, report.SharedFeatures, c.Terms.EvaluationFraction,
                CollaborationRows.Sha256OfFiles(files.Select(f => f.EvaluationFile)), classes));
        foreach (MemberPlan m in members)
        {
            await audit.AppendAsync(m.Member, $"system:{request.RunId}", AuditActions.TrainingStarted, $"collaborations/{c.Id}/models/{request.Model}",
                $"pooled: {plan.Candidates.Count} candidates x {plan.Folds} folds on {members.Sum(x => x.TrainRows)} rows of {members.Count} members; "
                + $"this member: {string.Join(", ", m.Datasets.Select(d => $"{d.Dataset}@{d.Version}"))}", ct: ct);
        }

        return plan;
    }

    /// <summary>The training rows of the plan's members (or of a coalition of them), read under their grants.</summary>
    public async Task<string> TrainFileAsync(TrainingPlan plan, IReadOnlyCollection<string>? coalition, CancellationToken ct)
    {
        CollaborationPlan c = plan.Collaboration!;
        var files = new List<MemberFiles>();
        foreach (MemberPlan m in c.Members.Where(m => coalition is null || coalition.Contains(m.Member)))
        {
            files.Add(await MemberAsync(plan, m, train: true, evaluate: false, ct));
        }

        return await TrainFileAsync(files, c.Features, plan.Label, ct);
    }

    /// <summary>The fixed evaluation set per member, read under the members' 'evaluate' grants; members without one are left out.</summary>
    public async Task<IReadOnlyList<MemberFiles>> EvaluationFilesAsync(TrainingPlan plan, CancellationToken ct)
    {
        var files = new List<MemberFiles>();
        foreach (MemberPlan m in plan.Collaboration!.Members.Where(m => m.EvaluationRows > 0))
        {
            files.Add(await MemberAsync(plan, m, train: false, evaluate: true, ct));
        }

        return files;
    }

    public Task<string> EvaluationFileAsync(TrainingPlan plan, IReadOnlyList<MemberFiles> files, CancellationToken ct) =>
        rows.ConcatenateAsync(files.Select(f => f.EvaluationFile).ToList(), CollaborationRows.HeaderFor(plan.Collaboration!.Features, plan.Label), ct);

    private Task<MemberFiles> MemberAsync(TrainingPlan plan, MemberPlan m, bool train, bool evaluate, CancellationToken ct) =>
        rows.MemberFilesAsync(plan.Collaboration!.Collaboration, plan.Request.RunId, m.Member, m.Datasets, plan.Collaboration.Features, plan.Label,
            plan.Task != MlTasks.Regression, plan.Collaboration.EvaluationFraction, plan.Seed, train, evaluate, ct);

    private Task<string> TrainFileAsync(IReadOnlyList<MemberFiles> files, IReadOnlyList<string> features, string label, CancellationToken ct) =>
        rows.ConcatenateAsync(files.Select(f => f.TrainFile).ToList(), CollaborationRows.HeaderFor(features, label), ct);
}
