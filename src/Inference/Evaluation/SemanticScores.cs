namespace SegServe.Inference.Evaluation;

/// <summary>The scores of one class; null where the ratio is 0/0 (the class is then left out of that mean).</summary>
/// <param name="Id">Class index.</param>
/// <param name="GroundTruthPixels">Pixels of the class in the ground truth (not ignored).</param>
/// <param name="PredictedPixels">Pixels predicted as the class (on non-ignored pixels).</param>
/// <param name="IntersectionPixels">Pixels both.</param>
/// <param name="Iou">Intersection over union.</param>
/// <param name="Dice">2·intersection / (predicted + ground truth) — also the F1 of the class's pixels.</param>
/// <param name="Precision">Intersection / predicted.</param>
/// <param name="Recall">Intersection / ground truth (the class's accuracy).</param>
/// <param name="F1">2PR/(P+R); null where precision or recall is null or both are 0 (as mmsegmentation's Fscore).</param>
/// <param name="BoundaryIou">Boundary IoU of the class's masks.</param>
public sealed record ClassScores(
    int Id,
    long GroundTruthPixels,
    long PredictedPixels,
    long IntersectionPixels,
    double? Iou,
    double? Dice,
    double? Precision,
    double? Recall,
    double? F1,
    double? BoundaryIou);

/// <summary>Dataset-level (or image-level) semantic scores, from summed counts.</summary>
/// <param name="PixelAccuracy">aAcc: correct pixels / non-ignored pixels.</param>
/// <param name="MeanAccuracy">Mean of per-class recall over classes present in the ground truth.</param>
/// <param name="MeanIou">Mean IoU over classes with a non-empty union.</param>
/// <param name="MeanDice">Mean Dice over classes with a non-empty union.</param>
/// <param name="MeanPrecision">Mean precision over predicted classes.</param>
/// <param name="MeanRecall">Same as <paramref name="MeanAccuracy"/>.</param>
/// <param name="MeanF1">Mean F1 over classes where it is defined.</param>
/// <param name="FrequencyWeightedIou">Σ (ground-truth share × IoU).</param>
/// <param name="MeanBoundaryIou">Mean Boundary IoU over classes with a non-empty boundary union.</param>
/// <param name="Pixels">Non-ignored pixels scored.</param>
/// <param name="Classes">Per-class scores, by id.</param>
public sealed record SemanticScores(
    double? PixelAccuracy,
    double? MeanAccuracy,
    double? MeanIou,
    double? MeanDice,
    double? MeanPrecision,
    double? MeanRecall,
    double? MeanF1,
    double? FrequencyWeightedIou,
    double? MeanBoundaryIou,
    long Pixels,
    IReadOnlyList<ClassScores> Classes)
{
    /// <summary>Computes the scores from summed counts.</summary>
    public static SemanticScores From(SemanticAccumulator sums)
    {
        ArgumentNullException.ThrowIfNull(sums);
        int n = sums.ClassCount;
        var classes = new ClassScores[n];
        long totalLabel = 0;
        long totalIntersection = 0;
        var label = new long[n];
        for (int c = 0; c < n; c++)
        {
            long rowSum = sums.PredictedOutside[c];
            for (int p = 0; p < n; p++)
            {
                rowSum += sums.Confusion[(c * n) + p];
            }

            label[c] = rowSum;
            totalLabel += rowSum;
            totalIntersection += sums.Confusion[(c * n) + c];
        }

        var means = new Mean[6];
        double frequencyWeighted = 0;
        bool anyWeighted = false;
        for (int c = 0; c < n; c++)
        {
            long intersection = sums.Confusion[(c * n) + c];
            long predicted = 0;
            for (int t = 0; t < n; t++)
            {
                predicted += sums.Confusion[(t * n) + c];
            }

            long truth = label[c];
            long union = truth + predicted - intersection;
            double? iou = Ratio(intersection, union);
            double? dice = Ratio(2 * intersection, predicted + truth);
            double? precision = Ratio(intersection, predicted);
            double? recall = Ratio(intersection, truth);
            double? f1 = precision is double p && recall is double r && p + r > 0 ? 2 * p * r / (p + r) : null;
            double? boundary = Ratio(sums.BoundaryIntersection[c], sums.BoundaryUnion[c]);
            classes[c] = new ClassScores(c, truth, predicted, intersection, iou, dice, precision, recall, f1, boundary);
            means[0].Add(iou);
            means[1].Add(dice);
            means[2].Add(precision);
            means[3].Add(recall);
            means[4].Add(f1);
            means[5].Add(boundary);
            if (iou is double value && truth > 0)
            {
                frequencyWeighted += (double)truth / totalLabel * value;
                anyWeighted = true;
            }
        }

        return new SemanticScores(
            PixelAccuracy: Ratio(totalIntersection, totalLabel),
            MeanAccuracy: means[3].Value,
            MeanIou: means[0].Value,
            MeanDice: means[1].Value,
            MeanPrecision: means[2].Value,
            MeanRecall: means[3].Value,
            MeanF1: means[4].Value,
            FrequencyWeightedIou: anyWeighted ? frequencyWeighted : null,
            MeanBoundaryIou: means[5].Value,
            Pixels: totalLabel,
            Classes: classes);
    }

    private static double? Ratio(long numerator, long denominator) => denominator == 0 ? null : (double)numerator / denominator;

    /// <summary>A mean that leaves out undefined values (as numpy's nanmean).</summary>
    private struct Mean
    {
        private double _sum;
        private int _count;

        public readonly double? Value => _count == 0 ? null : _sum / _count;

        public void Add(double? value)
        {
            if (value is double v)
            {
                _sum += v;
                _count++;
            }
        }
    }
}
