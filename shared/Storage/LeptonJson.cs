using System.Text.Json;

namespace Lepton.Storage;

/// <summary>
/// The one serializer setting for the platform's own documents: blobs (schemas, profiles, model cards, plans,
/// parameters), table columns holding JSON, and audit lines. Web defaults (camelCase, case-insensitive reads), compact:
/// parameter vectors and audit lines must stay one line and small.
/// </summary>
public static class LeptonJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>Files partners write by hand (dataset.json): the same names, plus comments and trailing commas.</summary>
    public static readonly JsonSerializerOptions Handwritten = new(Options)
    {
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };
}
